# Writes OUT: the proto3 file IN as proto2, for protoc-c 1.4, which cannot
# generate proto3 `optional` fields. Every singular field gets `optional`:
# the wire format is the same, and protobuf-c then keeps a has_ flag per
# scalar, so the agent sends a field exactly when it was set (an explicit
# `false` for `optional bool registration_enabled` included) and knows which
# fields a message carried. (Repeated scalars would go unpacked; parsers
# take both encodings.) Usage: cmake -DIN=... -DOUT=... -P proto2c.cmake
file(READ "${IN}" text)
foreach(unsupported "oneof " "map<")
  string(FIND "${text}" "${unsupported}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "proto2c: ${IN} uses '${unsupported}', which this translation does not handle")
  endif()
endforeach()
string(REPLACE "syntax = \"proto3\";" "syntax = \"proto2\";" text "${text}")
string(REGEX REPLACE
  "\n([ \t]+)(optional[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]+([a-z_][a-z0-9_]*)[ \t]*=[ \t]*([0-9]+)"
  "\n\\1optional \\3 \\4 = \\5" text "${text}")
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
