// Writes the generated seed files of the fuzz corpora: DNS responses made
// with DnsPacketBuilder (well-formed answers of each kind the resolver meets,
// and the malformations dns_answer_test pins) and serialized RPC requests.
// The corpora in tests/fuzz/corpus/ are committed; rerun this only to change
// the seeds:   build/fuzz/tests/fuzz/make_fuzz_seeds tests/fuzz/corpus
// Seeds captured from real servers (dnsmasq_*) and the text seeds are not
// generated here.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sipresolver/v1/sipresolver.pb.h"
#include "tests/support/dns_packet_builder.h"

namespace {

using sipresolver::dns::RecordType;
using sipresolver::testing::DnsPacketBuilder;
namespace v1 = sipresolver::v1;

std::string g_dir;

void Write(const std::string& corpus, const std::string& name,
           const std::string& bytes) {
  const std::string path = g_dir + "/" + corpus + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

void Dns(const std::string& name, const std::vector<uint8_t>& packet) {
  Write("dns_answer", name, std::string(packet.begin(), packet.end()));
}

void DnsSeeds() {
  using B = DnsPacketBuilder;
  Dns("a_two_addresses",
      B().SetQuestion("sip.example.com", RecordType::kA)
          .UseCompression(true)
          .AddA(B::kAnswer, "sip.example.com", "192.0.2.1", 60)
          .AddA(B::kAnswer, "sip.example.com", "192.0.2.2", 300)
          .Build());
  Dns("aaaa_answer",
      B().SetQuestion("sip.example.com", RecordType::kAaaa)
          .UseCompression(true)
          .AddAaaa(B::kAnswer, "sip.example.com", "2001:db8::1", 120)
          .Build());
  Dns("srv_with_additional",
      B().SetQuestion("_sip._udp.example.com", RecordType::kSrv)
          .UseCompression(true)
          .AddSrv(B::kAnswer, "_sip._udp.example.com", 10, 60, 5060,
                  "pbx1.example.com", 300)
          .AddSrv(B::kAnswer, "_sip._udp.example.com", 20, 40, 5070,
                  "pbx2.example.com", 300)
          .AddA(B::kAdditional, "pbx1.example.com", "192.0.2.11", 300)
          .AddAaaa(B::kAdditional, "pbx2.example.com", "2001:db8::12", 300)
          .Build());
  Dns("srv_not_offered",
      B().SetQuestion("example.com", RecordType::kSrv)
          .AddSrv(B::kAnswer, "example.com", 0, 0, 0, ".", 3600)
          .Build());
  Dns("cname_chain_a",
      B().SetQuestion("WWW.Example.COM", RecordType::kA)
          .UseCompression(true)
          .AddCname(B::kAnswer, "www.example.com", "alias.example.net", 30)
          .AddCname(B::kAnswer, "alias.example.net", "sip.example.org", 40)
          .AddA(B::kAnswer, "sip.example.org", "198.51.100.7", 50)
          .Build());
  Dns("cname_dangling",
      B().SetQuestion("www.example.com", RecordType::kAaaa)
          .AddCname(B::kAnswer, "www.example.com", "elsewhere.example.net", 30)
          .Build());
  Dns("cname_loop",
      B().SetQuestion("a.example.com", RecordType::kA)
          .AddCname(B::kAnswer, "a.example.com", "b.example.com", 30)
          .AddCname(B::kAnswer, "b.example.com", "a.example.com", 30)
          .Build());
  Dns("nxdomain_soa", B().SetQuestion("missing.example.com", RecordType::kA)
                          .SetRcode(3)
                          .AddSoa(B::kAuthority, "example.com", 900, 300)
                          .Build());
  Dns("nodata_soa_srv",
      B().SetQuestion("_sip._udp.example.com", RecordType::kSrv)
          .UseCompression(true)
          .AddSoa(B::kAuthority, "example.com", 60, 3600)
          .Build());
  Dns("servfail",
      B().SetQuestion("sip.example.com", RecordType::kA).SetRcode(2).Build());
  Dns("truncated_tc", [] {
    auto p = B().SetQuestion("sip.example.com", RecordType::kA)
                 .SetTruncated(true)
                 .AddA(B::kAnswer, "sip.example.com", "192.0.2.1", 60)
                 .AddA(B::kAnswer, "sip.example.com", "192.0.2.2", 60)
                 .Build();
    p.resize(p.size() - 7);
    return p;
  }());
  Dns("lying_answer_count",
      B().SetQuestion("sip.example.com", RecordType::kA)
          .SetCount(B::kAnswer, 3)
          .AddA(B::kAnswer, "sip.example.com", "192.0.2.1", 60)
          .Build());
  Dns("lying_rdlength",
      B().SetQuestion("sip.example.com", RecordType::kA)
          .AddRaw(B::kAnswer, "sip.example.com", 1, {192, 0, 2, 1, 0, 0}, 60, 6)
          .Build());
  Dns("unknown_types_skipped",
      B().SetQuestion("sip.example.com", RecordType::kA)
          .AddRaw(B::kAnswer, "sip.example.com", 16, {4, 't', 'e', 'x', 't'},
                  60)
          .AddA(B::kAnswer, "sip.example.com", "192.0.2.9", 60)
          .AddRaw(B::kAdditional, ".", 41, {}, 0)
          .Build());
  // A compression pointer to itself (offset 12 points at offset 12).
  Dns("pointer_loop",
      {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1});
  // Answer owner is a pointer past the end of the packet.
  Dns("pointer_past_end",
      {0x12, 0x34, 0x81, 0x80, 0,  1, 0, 1,   0,    0,    0, 0, 3,
       's',  'i',  'p',  0,    0,  1, 0, 1,   0xc0, 0xff, 0, 1, 0,
       1,    0,    0,    0,    60, 0, 4, 192, 0,    2,    1});
}

void Rpc(const std::string& corpus, const std::string& name,
         const google::protobuf::Message& m) {
  Write(corpus, name, m.SerializeAsString());
}

void RpcSeeds() {
  v1::ResolveRequest r;
  r.set_server("itsp.example.com");
  Rpc("rpc_resolve", "domain", r);
  r.set_redundancy(true);
  r.set_transport(v1::TRANSPORT_TLS);
  r.set_ip_version(v1::IP_VERSION_DUAL);
  r.set_port(5061);
  Rpc("rpc_resolve", "redundancy_tls_dual", r);
  r.Clear();
  r.set_server("[2001:db8::7]");
  r.set_port(5060);
  Rpc("rpc_resolve", "ipv6_literal", r);
  r.set_server("192.0.2.7");
  r.set_redundancy(true);
  Rpc("rpc_resolve", "ip_literal_redundancy", r);
  r.Clear();
  r.set_server("itsp.example.com");
  r.set_port(70000);
  r.set_transport(static_cast<v1::Transport>(9));
  Rpc("rpc_resolve", "bad_port_unknown_enum", r);

  v1::WatchDecisionRequest w;
  w.set_agent_id("device-00:11:22:33:44:55");
  v1::ItspProfile* p = w.mutable_profile();
  p->set_proxy_server("itsp.example.com");
  Rpc("rpc_watch", "minimal", w);
  p->set_proxy_server_redundancy(true);
  p->set_secondary_registration(true);
  p->set_registrar_server("reg.example.com");
  p->set_registrar_server_port(5070);
  p->mutable_check_primary_fallback_interval()->set_seconds(30);
  p->mutable_check_secondary_fallback_interval()->set_seconds(120);
  p->set_keep_alive_enable(true);
  p->set_keep_alive_msg_type(v1::KEEP_ALIVE_MSG_TYPE_OPTIONS);
  p->set_keep_alive_server("ka.example.com");
  p->set_keep_alive_port(5060);
  p->set_proxy_server_transport(v1::TRANSPORT_TCP);
  p->set_ip_version(v1::IP_VERSION_DUAL);
  w.set_spread_mode(v1::SPREAD_MODE_DEVICE_ORDER);
  w.set_last_applied_version(42);
  Rpc("rpc_watch", "full_redundancy", w);
  p->set_outbound_proxy("[2001:db8::5]");
  p->set_outbound_proxy_port(5062);
  p->set_registration_enabled(false);
  Rpc("rpc_watch", "outbound_proxy_v6", w);
  p->mutable_check_primary_fallback_interval()->set_seconds(0);
  p->mutable_check_primary_fallback_interval()->set_nanos(1);
  p->set_proxy_server_port(65536);
  Rpc("rpc_watch", "bad_interval_port", w);

  v1::ReportObservationRequest o;
  o.set_agent_id("device-00:11:22:33:44:55");
  Rpc("rpc_observation", "agent_only", o);
  v1::MappedAddress* m = o.mutable_mapped_address();
  m->set_address("203.0.113.7");
  m->set_port(40123);
  m->set_method(v1::MAPPING_METHOD_VIA);
  m->set_local_address("192.168.1.20");
  m->set_local_port(5060);
  m->set_changed(true);
  v1::RegistrationOutcome* r1 = o.add_registrations();
  r1->mutable_server()->set_address("192.0.2.11");
  r1->mutable_server()->set_port(5060);
  r1->mutable_server()->set_transport(v1::TRANSPORT_UDP);
  r1->set_status_code(200);
  v1::RegistrationOutcome* r2 = o.add_registrations();
  r2->mutable_server()->set_address("2001:db8::12");
  r2->mutable_server()->set_port(5061);
  r2->mutable_server()->set_transport(v1::TRANSPORT_TLS);
  r2->set_error("timeout");
  Rpc("rpc_observation", "via_mapping_two_registrations", o);
  m->set_method(v1::MAPPING_METHOD_STUN);
  m->clear_local_address();
  m->set_local_port(0);
  r1->set_status_code(99);
  Rpc("rpc_observation", "stun_bad_status", o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  DnsSeeds();
  RpcSeeds();
  return 0;
}
