// Fuzzes the DNS face's RemoteBackend::Handle with request lines as PowerDNS
// (or anything else that reaches the socket) sends them, against a fixed
// configuration where one name has servers and one has none yet.
// Checks: every reply is one line of JSON, an object with "result" (true,
// false, a record list or a zone) or, only for the name without servers,
// "error"; every record answered lies in the zone and carries its TTL.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/dns_face/remote_backend.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sipresolver::server::dns_face::FaceRecords;
using sipresolver::server::dns_face::ParseFaceConfig;
using sipresolver::server::dns_face::RemoteBackend;

FaceRecords& Records() {
  static FaceRecords* records = [] {
    auto config = ParseFaceConfig(R"({"zones":[{"zone":"fleet.example",
      "ttlSeconds":7,"nameservers":["ns1.fleet.example"],"names":[
      {"name":"acme","profile":{"proxyServer":"itsp.example"},
       "publish":["srv","address"]},
      {"name":"b.c","profile":{"proxyServer":"other.example"}}]}]})");
    FUZZ_CHECK(config.ok());
    auto* r = new FaceRecords(*std::move(config));
    sipresolver::v1::Decision d;
    for (const char* address : {"192.0.2.1", "2001:db8::2"}) {
      auto& c = *d.add_candidates();
      c.set_address(address);
      c.set_port(5060);
    }
    r->SetDecision(0, 0, d);
    return r;
  }();
  return *records;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  static const RemoteBackend backend(Records());
  const std::string reply = backend.Handle(line);
  FUZZ_CHECK(!absl::StrContains(reply, '\n'));

  google::protobuf::Struct parsed;
  FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(reply, &parsed).ok());
  const auto& fields = parsed.fields();
  const auto result = fields.find("result");
  if (result == fields.end()) {
    FUZZ_CHECK(fields.count("error") == 1);
    FUZZ_CHECK(absl::StrContains(fields.at("error").string_value(),
                                 "b.c.fleet.example."));
    return 0;
  }
  if (!result->second.has_list_value()) return 0;
  for (const auto& value : result->second.list_value().values()) {
    const auto& record = value.struct_value().fields();
    if (record.count("qname") == 0) continue;  // A zone (getAllDomains).
    const std::string& qname = record.at("qname").string_value();
    FUZZ_CHECK(absl::EndsWith(qname, "fleet.example."));
    FUZZ_CHECK(record.at("ttl").number_value() == 7);
  }
  return 0;
}
