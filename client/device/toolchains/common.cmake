# Shared by the device toolchains: programs (protoc-c, the build tools) come
# from the build host, libraries and headers only from the target's root, so
# nothing of the host's x86-64 glibc packages is picked up.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
