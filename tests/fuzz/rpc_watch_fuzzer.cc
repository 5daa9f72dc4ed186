// Fuzzes the validation of WatchDecision requests (ToWatchRequest) with the
// request as gRPC hands it over: protobuf wire bytes. Seeds are serialized
// WatchDecisionRequests (corpus/rpc_watch/). See rpc_checks.h for the checks.
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
  sipresolver::v1::WatchDecisionRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  sipresolver::fuzz::CheckWatchRequest(request);
  return 0;
}
