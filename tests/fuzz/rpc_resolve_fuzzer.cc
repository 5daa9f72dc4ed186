// Fuzzes the validation of Resolve requests (ToServerSpec) with the request
// as gRPC hands it over: protobuf wire bytes. Seeds are serialized
// ResolveRequests (corpus/rpc_resolve/). See rpc_checks.h for the checks.
#include <cstddef>
#include <cstdint>

#include "google/protobuf/stubs/logging.h"
#include "sipresolver/v1/sipresolver.pb.h"
#include "tests/fuzz/rpc_checks.h"

// protobuf logs every string field with invalid UTF-8 it refuses; that is
// expected here (gRPC refuses such a request the same way) and only noise.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sipresolver::v1::ResolveRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  sipresolver::fuzz::CheckResolveRequest(request);
  return 0;
}
