# x86-64 devices: musl (musl-tools' musl-gcc), linked statically.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER musl-gcc)
# musl-gcc finds its own headers and libc; this root holds no other library,
# so none of the host's glibc libraries is found.
set(CMAKE_FIND_ROOT_PATH /usr/lib/x86_64-linux-musl)
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
