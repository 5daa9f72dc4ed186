// Resolve throughput of the real sipresolverd over a real gRPC socket,
// against the server's own grpc.health.v1.Health/Check on the same channel
// and client code path (generic unary calls), so the ratio shows what
// resolution costs on top of a trivial RPC. DNS answers come from a real
// dnsmasq on loopback; after the first call they are cache hits, which is
// what a fleet sees.
//
// Run: scripts/bench (see README). Prints Google Benchmark's table, then the
// ratios measured in this run.
#include <future>
#include <map>

#include "benchmark/benchmark.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/sipresolverd_process.h"

namespace sipresolver::testing {
namespace {

DnsmasqServer* g_dns = nullptr;
SipresolverdProcess* g_daemon = nullptr;

grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

grpc::ByteBuffer ResolveRequestBytes(const std::string& server) {
  v1::ResolveRequest request;
  request.set_server(server);
  request.set_redundancy(true);
  return Bytes(request.SerializeAsString());
}

// One blocking generic unary call.
bool Call(grpc::GenericStub& stub, const std::string& method,
          const grpc::ByteBuffer& request) {
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  std::promise<bool> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s.ok()); });
  return done.get_future().get();
}

void RunCalls(benchmark::State& state, const std::string& method,
              const grpc::ByteBuffer& request) {
  grpc::GenericStub stub(g_daemon->channel());
  for (auto _ : state) {
    if (!Call(stub, method, request)) {
      state.SkipWithError("RPC failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_HealthCheck(benchmark::State& state) {
  // HealthCheckRequest{service: "sipresolver.v1.SipResolver"}.
  const std::string service = "sipresolver.v1.SipResolver";
  RunCalls(state, "/grpc.health.v1.Health/Check",
           Bytes(std::string("\x0a", 1) + char(service.size()) + service));
}

void BM_ResolveA(benchmark::State& state) {
  RunCalls(state, "/sipresolver.v1.SipResolver/Resolve",
           ResolveRequestBytes("plain.test"));
}

void BM_ResolveSrv(benchmark::State& state) {
  RunCalls(state, "/sipresolver.v1.SipResolver/Resolve",
           ResolveRequestBytes("itsp.test"));
}

// Three targets of one priority: each answer draws its weighted order.
void BM_ResolveWeightedSrv(benchmark::State& state) {
  RunCalls(state, "/sipresolver.v1.SipResolver/Resolve",
           ResolveRequestBytes("weighted.test"));
}

void BM_ResolveSipUdpSrv(benchmark::State& state) {
  RunCalls(state, "/sipresolver.v1.SipResolver/Resolve",
           ResolveRequestBytes("fallback.test"));
}

BENCHMARK(BM_HealthCheck)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK(BM_ResolveA)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK(BM_ResolveSrv)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK(BM_ResolveWeightedSrv)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK(BM_ResolveSipUdpSrv)->Threads(1)->Threads(8)->UseRealTime();

// Keeps items/s per run name so main can print ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates[run.benchmark_name()] = it->second;
    }
  }
  std::map<std::string, double> rates;
};

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  using namespace sipresolver::testing;
  benchmark::Initialize(&argc, argv);
  DnsZone zone;
  zone.ttl = 3600;
  zone.hosts = {{"pbx1.test", {"127.0.0.11"}},
                {"pbx2.test", {"127.0.0.12"}},
                {"pbx3.test", {"127.0.0.13"}},
                {"plain.test", {"127.0.0.21", "127.0.0.22"}}};
  zone.srv = {{"itsp.test", "pbx1.test", 5071, 10, 10},
              {"itsp.test", "pbx2.test", 5072, 20, 10},
              {"weighted.test", "pbx1.test", 5071, 10, 10},
              {"weighted.test", "pbx2.test", 5072, 10, 30},
              {"weighted.test", "pbx3.test", 5073, 10, 60},
              {"_sip._udp.fallback.test", "pbx1.test", 5071, 10, 10}};
  auto dns = DnsmasqServer::Start(zone);
  if (!dns.ok()) {
    std::fprintf(stderr, "dnsmasq: %s\n",
                 std::string(dns.status().message()).c_str());
    return 1;
  }
  auto daemon = SipresolverdProcess::Start((*dns)->address());
  if (!daemon.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(daemon.status().message()).c_str());
    return 1;
  }
  g_dns = dns->get();
  g_daemon = daemon->get();

  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf(
      "\nRatios in this run (Resolve throughput / Health/Check throughput):\n");
  for (const char* threads : {"threads:1", "threads:8"}) {
    const double health =
        reporter.rates[std::string("BM_HealthCheck/real_time/") + threads];
    for (const char* name : {"BM_ResolveA", "BM_ResolveSrv",
                             "BM_ResolveWeightedSrv", "BM_ResolveSipUdpSrv"}) {
      const double rate =
          reporter.rates[std::string(name) + "/real_time/" + threads];
      if (health > 0) {
        std::printf("  %-22s %-10s %8.0f/s  = %.2f x health check (%.0f/s)\n",
                    name, threads, rate, rate / health, health);
      }
    }
  }
  return 0;
}
