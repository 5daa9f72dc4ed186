// RealDnsStackTest: the resolution stack exactly as sipresolverd builds it
// (EventLoop, AresTransport, CachingResolver with RealClock, DeviceResolver
// with RealRandom) talking to a real dnsmasq on loopback, or to another
// real DNS server (BIND). Shared by device_resolution_test.cc,
// dns_cache_behaviour_test.cc and bind_resolution_test.cc.
//
// The stack is loop-thread-only: Resolve() posts the request to the loop and
// waits (bounded) for its callback on the test thread. TearDown stops the
// loop before the engine objects are destroyed.
#ifndef SIPRESOLVER_TESTS_INTEGRATION_REAL_DNS_STACK_H_
#define SIPRESOLVER_TESTS_INTEGRATION_REAL_DNS_STACK_H_

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/core/clock.h"
#include "lib/core/event_loop.h"
#include "lib/core/random.h"
#include "lib/dns/ares_transport.h"
#include "lib/dns/caching_resolver.h"
#include "lib/dns/device_resolver.h"
#include "tests/support/dnsmasq_server.h"

namespace sipresolver::testing {

using dns::CacheResult;
using dns::CandidateSource;
using dns::IpVersion;
using dns::LookupOutcome;
using dns::RecordType;
using dns::Resolution;
using dns::ServerSpec;

// Counts what the CachingResolver reports. Written on the loop thread, read
// on the test thread.
class CountingObserver : public dns::DnsObserver {
 public:
  void OnCacheLookup(RecordType, CacheResult result) override {
    absl::MutexLock lock(&mu_);
    ++cache_[result];
  }
  void OnUpstreamQuery(RecordType, absl::string_view outcome) override {
    absl::MutexLock lock(&mu_);
    ++upstream_[std::string(outcome)];
  }
  void OnJoinedInFlight(RecordType) override {
    absl::MutexLock lock(&mu_);
    ++joined_;
  }
  int cache(CacheResult result) const {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(result);
    return it == cache_.end() ? 0 : it->second;
  }
  int upstream(const std::string& outcome) const {
    absl::MutexLock lock(&mu_);
    auto it = upstream_.find(outcome);
    return it == upstream_.end() ? 0 : it->second;
  }
  int joined() const {
    absl::MutexLock lock(&mu_);
    return joined_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<CacheResult, int> cache_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> upstream_ ABSL_GUARDED_BY(mu_);
  int joined_ ABSL_GUARDED_BY(mu_) = 0;
};

struct StackOptions {
  // c-ares, tries = 1. Generous: a DNS server on a saturated machine must not
  // look down; only the tests of a timeout wait for it.
  absl::Duration dns_timeout = absl::Seconds(2);
  dns::CacheLimits limits;
  // The cache runs on cache_time_ (advanced by the test) instead of the
  // real clock: TTL expiry without waiting it out.
  bool simulated_cache_time = false;
};

struct Outcome {
  absl::Status status;
  Resolution resolution;
};

inline ServerSpec Spec(const std::string& server, uint32_t port = 0,
                       bool redundancy = true) {
  ServerSpec spec;
  spec.server = server;
  spec.port = port;
  spec.redundancy = redundancy;
  return spec;
}

// "target address:port prio/weight source" per candidate, then the lookups:
// for failure messages.
inline std::string Describe(const Resolution& r) {
  std::string out = "candidates:";
  for (const dns::Candidate& c : r.candidates) {
    absl::StrAppend(&out, "\n  ", c.target, " ", c.address, ":", c.port, " ",
                    c.priority, "/", c.weight,
                    " source=", static_cast<int>(c.source));
  }
  absl::StrAppend(&out, "\nlookups:");
  for (const dns::LookupRecord& l : r.lookups) {
    absl::StrAppend(&out, "\n  ", dns::RecordTypeName(l.type), " ", l.name,
                    " outcome=", static_cast<int>(l.outcome),
                    " cache=", l.from_cache, " stale=", l.stale,
                    " ttl=", absl::FormatDuration(l.ttl), " ", l.detail);
  }
  return out;
}

inline std::vector<std::string> Addresses(const Resolution& r) {
  std::vector<std::string> out;
  for (const dns::Candidate& c : r.candidates) out.push_back(c.address);
  return out;
}

class RealDnsStackTest : public ::testing::Test {
 protected:
  // Starts dnsmasq with `zone` and the stack in front of it. Call through
  // ASSERT_NO_FATAL_FAILURE.
  void StartStack(const DnsZone& zone, const StackOptions& options = {}) {
    auto server = DnsmasqServer::Start(zone);
    ASSERT_TRUE(server.ok()) << server.status();
    dnsmasq_ = *std::move(server);
    ConnectStack(dnsmasq_->address(), options);
  }

  // The stack in front of a DNS server the test runs itself ("HOST:PORT").
  void ConnectStack(const std::string& dns_address,
                    const StackOptions& options = {}) {
    // Created before the loop runs, so no loop-thread hand-over is needed.
    auto transport = dns::AresTransport::Create(
        loop_.io_context(),
        dns::AresOptions{dns_address, options.dns_timeout, 1});
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = *std::move(transport);
    caching_ = std::make_unique<dns::CachingResolver>(
        *transport_,
        options.simulated_cache_time ? static_cast<const Clock&>(cache_time_)
                                     : clock_,
        options.limits, &observer_);
    device_ = std::make_unique<dns::DeviceResolver>(*caching_, random_);
    loop_.Start();
  }

  void TearDown() override {
    loop_.Stop();  // Nothing runs on the loop thread past this point.
    device_.reset();
    caching_.reset();
    transport_.reset();
    dnsmasq_.reset();
  }

  // Posts one Resolve to the loop; the future gets its callback's result.
  std::future<Outcome> ResolveAsync(const ServerSpec& spec) {
    auto done = std::make_shared<std::promise<Outcome>>();
    std::future<Outcome> result = done->get_future();
    loop_.Post([this, spec, done] {
      device_->Resolve(spec, [done](absl::Status status, Resolution r) {
        done->set_value(Outcome{std::move(status), std::move(r)});
      });
    });
    return result;
  }

  // Waits at most 10 s for `result`; a test failure if it does not come.
  static Outcome Wait(std::future<Outcome>& result) {
    if (result.wait_for(std::chrono::seconds(10)) !=
        std::future_status::ready) {
      ADD_FAILURE() << "Resolve did not call back within 10 s";
      return Outcome{absl::DeadlineExceededError("test: no callback"), {}};
    }
    return result.get();
  }

  Outcome Resolve(const ServerSpec& spec) {
    std::future<Outcome> result = ResolveAsync(spec);
    return Wait(result);
  }
  Outcome Resolve(const std::string& server) { return Resolve(Spec(server)); }

  size_t InFlight() {
    size_t n = 0;
    loop_.RunSync([&] { n = caching_->in_flight(); });
    return n;
  }

  // Every query dnsmasq logged (any name, any type) except the fixture's
  // "version.bind" readiness probes.
  int QueriesOtherThanProbes() const {
    int n = 0;
    for (absl::string_view line : absl::StrSplit(dnsmasq_->ReadLog(), '\n')) {
      if ((absl::StrContains(line, " query[") ||
           absl::StrContains(line, " auth[")) &&
          !absl::StrContains(line, "version.bind")) {
        ++n;
      }
    }
    return n;
  }

  EventLoop loop_;  // Declared first: outlives everything it drives.
  RealClock clock_;
  SimulatedClock cache_time_;  // With StackOptions::simulated_cache_time.
  RealRandom random_;
  CountingObserver observer_;
  std::unique_ptr<DnsmasqServer> dnsmasq_;
  std::unique_ptr<dns::AresTransport> transport_;
  std::unique_ptr<dns::CachingResolver> caching_;
  std::unique_ptr<dns::DeviceResolver> device_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_INTEGRATION_REAL_DNS_STACK_H_
