// Fault injection: a "registrar" that answers probes with garbage, with
// responses to someone else's transaction, or with a flood. The prober must
// ignore and count them, never crash, and still time out or finish cleanly.
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/core/event_loop.h"
#include "lib/sip/sip_prober.h"
#include "tests/integration/hostile_udp_server.h"

namespace sipresolver::testing {
namespace {

// A "registrar" on 127.0.0.1 that answers each request with the datagrams
// `reply` makes of it (any number).
using HostileRegistrar = HostileUdpServer;

// The value of header `name` in `request`.
std::string Header(const std::string& request, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(request, "\r\n")) {
    if (absl::StartsWith(line, name + ": "))
      return std::string(line.substr(name.size() + 2));
  }
  return "";
}

// A 200 OK echoing the request's transaction, with `call_id` instead of the
// request's when given.
std::string Ok(const std::string& request, const std::string& call_id = "") {
  return absl::StrCat("SIP/2.0 200 OK\r\nVia: ", Header(request, "Via"),
                      "\r\nFrom: ", Header(request, "From"),
                      "\r\nTo: ", Header(request, "To"), ";tag=x\r\nCall-ID: ",
                      call_id.empty() ? Header(request, "Call-ID") : call_id,
                      "\r\nCSeq: ", Header(request, "CSeq"),
                      "\r\nContent-Length: 0\r\n\r\n");
}

class HostileRegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sip::ProberOptions options;
    options.t1 = absl::Milliseconds(50);
    // Generous: only the tests of a timeout wait for it.
    options.timeout = absl::Seconds(2);
    loop_.RunSync([&] {
      prober_ = std::make_unique<sip::SipProber>(loop_.io_context(), loop_,
                                                 clock_, random_, options);
    });
    loop_.Start();
  }
  void TearDown() override {
    loop_.RunSync([&] { prober_.reset(); });
    loop_.Stop();
  }
  sip::ProbeResult Probe(uint16_t port) {
    std::promise<sip::ProbeResult> done;
    loop_.Post([&] {
      sip::ProbeRequest r;
      r.endpoint = {"127.0.0.1", port, Transport::kUdp};
      r.domain = "itsp.test";
      prober_->Probe(r,
                     [&](sip::ProbeResult result) { done.set_value(result); });
    });
    auto f = done.get_future();
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
      std::abort();
    return f.get();
  }
  uint64_t Ignored() {
    uint64_t n = 0;
    loop_.RunSync([&] { n = prober_->ignored_responses(); });
    return n;
  }

  EventLoop loop_;
  RealClock clock_;
  RealRandom random_;
  std::unique_ptr<sip::SipProber> prober_;
};

TEST_F(HostileRegistrarTest, GarbageIsIgnoredAndCountedThenTimesOut) {
  HostileRegistrar registrar([](const std::string&) {
    return std::vector<std::string>{"", "SIP/2.0", std::string(3000, '\xff'),
                                    "SIP/2.0 200 OK\r\nVia: broken\r\n\r\n",
                                    "REGISTER sip:x SIP/2.0\r\n\r\n"};
  });
  sip::ProbeResult r = Probe(registrar.port());
  EXPECT_EQ(r.outcome, sip::ProbeResult::Outcome::kTimeout);
  EXPECT_GE(Ignored(), 5u);
}

TEST_F(HostileRegistrarTest, ResponseForAnotherCallIdIsIgnored) {
  HostileRegistrar registrar([](const std::string& request) {
    return std::vector<std::string>{Ok(request, "someone-else@elsewhere")};
  });
  sip::ProbeResult r = Probe(registrar.port());
  EXPECT_EQ(r.outcome, sip::ProbeResult::Outcome::kTimeout);
  EXPECT_GE(Ignored(), 1u);
}

TEST_F(HostileRegistrarTest, FloodOfResponsesEndsTheProbeOnceNoCrash) {
  HostileRegistrar registrar([](const std::string& request) {
    std::vector<std::string> flood(200, Ok(request));
    flood.insert(flood.begin(), 50, std::string("garbage"));
    return flood;
  });
  for (int i = 0; i < 5; ++i) {
    sip::ProbeResult r = Probe(registrar.port());
    EXPECT_EQ(r.status_code, 200) << r.error;
  }
  size_t in_flight = 1;
  loop_.RunSync([&] { in_flight = prober_->in_flight(); });
  EXPECT_EQ(in_flight, 0u);
  EXPECT_GE(Ignored(), 50u);
}

}  // namespace
}  // namespace sipresolver::testing
