// Fuzzes the validation of ReportObservation requests (ValidateObservation,
// server/observations.h) with the request as gRPC hands it over: protobuf
// wire bytes. Seeds are serialized requests (corpus/rpc_observation/).
// Checks: an accepted report is within every documented bound, so what feeds
// metrics and re-probes is a real IP endpoint with a SIP status code.
#include <cstddef>
#include <cstdint>
#include <string>

#include "google/protobuf/stubs/logging.h"
#include "lib/dns/domain_name.h"
#include "server/observations.h"
#include "sipresolver/v1/sipresolver.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace v1 = sipresolver::v1;

void CheckEndpoint(const std::string& address, uint32_t port) {
  FUZZ_CHECK(sipresolver::dns::ParseIpLiteral(address).has_value());
  FUZZ_CHECK(port >= 1 && port <= 65535);
}

}  // namespace

// protobuf logs every string field with invalid UTF-8 it refuses; expected.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::ReportObservationRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::Status valid = sipresolver::server::ValidateObservation(request);
  if (!valid.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(valid));
    FUZZ_CHECK(!valid.message().empty());
    return 0;
  }
  FUZZ_CHECK(!request.agent_id().empty() && request.agent_id().size() <= 128);
  if (request.has_mapped_address()) {
    const v1::MappedAddress& m = request.mapped_address();
    CheckEndpoint(m.address(), m.port());
    if (!m.local_address().empty() || m.local_port() != 0) {
      CheckEndpoint(m.local_address(), m.local_port());
    }
    FUZZ_CHECK(m.method() == v1::MAPPING_METHOD_VIA ||
               m.method() == v1::MAPPING_METHOD_STUN);
  }
  FUZZ_CHECK(request.registrations_size() <=
             sipresolver::server::kMaxReportedRegistrations);
  for (const v1::RegistrationOutcome& o : request.registrations()) {
    CheckEndpoint(o.server().address(), o.server().port());
    FUZZ_CHECK(v1::Transport_IsValid(o.server().transport()));
    FUZZ_CHECK(o.status_code() == 0 ||
               (o.status_code() >= 100 && o.status_code() <= 699));
    FUZZ_CHECK(o.error().size() <=
               sipresolver::server::kMaxReportedErrorLength);
  }
  return 0;
}
