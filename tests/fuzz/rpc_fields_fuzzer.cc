// Structure-aware fuzzing of RPC request validation: instead of protobuf wire
// bytes (rpc_resolve, rpc_watch), the input drives FuzzedDataProvider to set
// each field of a ResolveRequest and a WatchDecisionRequest, picking often
// from values near the rules' edges (IP literals, bracketed IPv6, trailing
// dots, 63/64-byte labels, ports around 65535, durations around 1 s and 24 h,
// unknown enum values). This reaches the checks behind the first field far
// more often than mutating wire bytes does. Checks: rpc_checks.h.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "sipresolver/v1/sipresolver.pb.h"
#include "tests/fuzz/rpc_checks.h"

namespace {

namespace v1 = sipresolver::v1;

std::string Server(FuzzedDataProvider& in) {
  static const std::string kEdges[] = {
      "",
      "itsp.example.com",
      "ITSP.Example.COM.",
      "itsp.example.com..",
      "192.0.2.1",
      "192.0.2.256",
      "[2001:db8::1]",
      "2001:db8::1",
      "::ffff:192.0.2.1",
      "[::1]:5060",
      "_sip._udp.example.com",
      "-bad.example.com",
      "a." + std::string(63, 'b') + ".com",
      "a." + std::string(64, 'b') + ".com",
      std::string(253, 'a'),
      "sip:itsp.example.com",
      "itsp.example.com;transport=tcp",
      "itsp.example.com\r\nX-Injected: 1",
      "exa mple.com",
      "\xc3\xa9xample.com",
  };
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      return in.PickValueInArray(kEdges);
    case 1:
      return in.PickValueInArray(kEdges) + in.ConsumeRandomLengthString(16);
    default:
      return in.ConsumeRandomLengthString(300);
  }
}

uint32_t Port(FuzzedDataProvider& in) {
  static const uint32_t kEdges[] = {0, 1, 5060, 5061, 65535, 65536, 0xffffffff};
  return in.ConsumeBool() ? in.PickValueInArray(kEdges)
                          : in.ConsumeIntegral<uint32_t>();
}

template <typename Enum>
Enum AnyEnum(FuzzedDataProvider& in) {
  // Known values most of the time; unknown ones (open enums) otherwise.
  return static_cast<Enum>(in.ConsumeBool()
                               ? in.ConsumeIntegralInRange<int>(0, 3)
                               : in.ConsumeIntegral<int32_t>());
}

void SetDuration(FuzzedDataProvider& in, google::protobuf::Duration* d) {
  static const int64_t kSeconds[] = {0,     1,     59, 60,        86399,
                                     86400, 86401, -1, INT64_MIN, INT64_MAX};
  static const int32_t kNanos[] = {0, 1, 999999999, 1000000000, -1};
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      return;  // Unset: the default.
    case 1:
      d->set_seconds(in.PickValueInArray(kSeconds));
      d->set_nanos(in.PickValueInArray(kNanos));
      return;
    default:
      d->set_seconds(in.ConsumeIntegral<int64_t>());
      d->set_nanos(in.ConsumeIntegral<int32_t>());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);

  v1::ResolveRequest resolve;
  resolve.set_server(Server(in));
  resolve.set_port(Port(in));
  resolve.set_transport(AnyEnum<v1::Transport>(in));
  resolve.set_redundancy(in.ConsumeBool());
  resolve.set_ip_version(AnyEnum<v1::IpVersion>(in));
  sipresolver::fuzz::CheckResolveRequest(resolve);

  v1::WatchDecisionRequest watch;
  watch.set_agent_id(in.ConsumeBool() ? "device-0001"
                                      : in.ConsumeRandomLengthString(140));
  watch.set_last_applied_version(in.ConsumeIntegral<uint64_t>());
  watch.set_spread_mode(AnyEnum<v1::SpreadMode>(in));
  v1::ItspProfile* p = watch.mutable_profile();
  p->set_proxy_server(Server(in));
  p->set_proxy_server_port(Port(in));
  if (in.ConsumeBool()) p->set_registrar_server(Server(in));
  p->set_registrar_server_port(Port(in));
  if (in.ConsumeBool()) p->set_outbound_proxy(Server(in));
  p->set_outbound_proxy_port(Port(in));
  p->set_proxy_server_transport(AnyEnum<v1::Transport>(in));
  p->set_ip_version(AnyEnum<v1::IpVersion>(in));
  p->set_proxy_server_redundancy(in.ConsumeBool());
  p->set_secondary_registration(in.ConsumeBool());
  SetDuration(in, p->mutable_check_primary_fallback_interval());
  SetDuration(in, p->mutable_check_secondary_fallback_interval());
  p->set_keep_alive_enable(in.ConsumeBool());
  p->set_keep_alive_msg_type(AnyEnum<v1::KeepAliveMsgType>(in));
  if (in.ConsumeBool()) p->set_keep_alive_server(Server(in));
  p->set_keep_alive_port(Port(in));
  if (in.ConsumeBool()) p->set_registration_enabled(in.ConsumeBool());
  sipresolver::fuzz::CheckWatchRequest(watch);
  return 0;
}
