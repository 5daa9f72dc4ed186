// Checks DnsmasqServer against real DNS queries (c-ares, driven
// synchronously), and pins down the dnsmasq 2.90 answer shapes the resolver
// relies on (additional section, SOA, TTLs, CNAME chains, rcodes).
#include "tests/support/dnsmasq_server.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dirent.h>
#include <sys/select.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/loopback.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int kTypeA = 1, kTypeNs = 2, kTypeCname = 5, kTypeSoa = 6,
              kTypeAaaa = 28, kTypeSrv = 33;

// One resource record of a response, rdata decoded into text for the types
// used here: A/AAAA address, NS and CNAME target, "prio weight port target" for
// SRV, "mname rname serial refresh retry expire minimum" for SOA.
struct Rr {
  int section;  // 1 answer, 2 authority, 3 additional
  std::string name;
  int type;
  uint32_t ttl;
  std::string data;
};

struct Reply {
  int ares_status = ARES_ECANCELLED;
  bool has_packet = false;
  int rcode = -1;
  bool aa = false;
  std::vector<Rr> rrs;

  std::vector<Rr> Section(int section) const {
    std::vector<Rr> out;
    for (const Rr& rr : rrs)
      if (rr.section == section) out.push_back(rr);
    return out;
  }
  std::vector<std::string> Data(int section, int type) const {
    std::vector<std::string> out;
    for (const Rr& rr : rrs)
      if (rr.section == section && rr.type == type) out.push_back(rr.data);
    return out;
  }
};

uint16_t Get16(const unsigned char* p) { return (p[0] << 8) | p[1]; }
uint32_t Get32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

// Expands the name at `p`; advances `p`. False on malformed input.
bool Name(const unsigned char*& p, const unsigned char* buf, int len,
          std::string* out) {
  char* s = nullptr;
  long enclen = 0;
  if (ares_expand_name(p, buf, len, &s, &enclen) != ARES_SUCCESS) return false;
  *out = *s ? s : ".";
  ares_free_string(s);
  p += enclen;
  return true;
}

void Parse(const unsigned char* buf, int len, Reply* reply) {
  ASSERT_GE(len, 12);
  reply->has_packet = true;
  reply->rcode = buf[3] & 0x0f;
  reply->aa = (buf[2] & 0x04) != 0;
  const unsigned char* p = buf + 12;
  const unsigned char* end = buf + len;
  std::string name;
  for (int i = 0; i < Get16(buf + 4); ++i) {
    ASSERT_TRUE(Name(p, buf, len, &name));
    p += 4;
  }
  const int counts[3] = {Get16(buf + 6), Get16(buf + 8), Get16(buf + 10)};
  for (int section = 1; section <= 3; ++section) {
    for (int i = 0; i < counts[section - 1]; ++i) {
      Rr rr;
      rr.section = section;
      ASSERT_TRUE(Name(p, buf, len, &rr.name));
      ASSERT_LE(p + 10, end);
      rr.type = Get16(p);
      rr.ttl = Get32(p + 4);
      const int rdlen = Get16(p + 8);
      p += 10;
      ASSERT_LE(p + rdlen, end);
      const unsigned char* rd = p;
      char text[INET6_ADDRSTRLEN];
      std::string target;
      switch (rr.type) {
        case kTypeA:
          rr.data = inet_ntop(AF_INET, rd, text, sizeof(text));
          break;
        case kTypeAaaa:
          rr.data = inet_ntop(AF_INET6, rd, text, sizeof(text));
          break;
        case kTypeNs:
        case kTypeCname:
          ASSERT_TRUE(Name(rd, buf, len, &rr.data));
          break;
        case kTypeSrv: {
          const unsigned char* t = rd + 6;
          ASSERT_TRUE(Name(t, buf, len, &target));
          rr.data = absl::StrCat(Get16(rd), " ", Get16(rd + 2), " ",
                                 Get16(rd + 4), " ", target);
          break;
        }
        case kTypeSoa: {
          std::string mname, rname;
          const unsigned char* t = rd;
          ASSERT_TRUE(Name(t, buf, len, &mname));
          ASSERT_TRUE(Name(t, buf, len, &rname));
          rr.data = absl::StrCat(mname, " ", rname, " ", Get32(t), " ",
                                 Get32(t + 4), " ", Get32(t + 8), " ",
                                 Get32(t + 12), " ", Get32(t + 16));
          break;
        }
        default:
          break;
      }
      p += rdlen;
      reply->rrs.push_back(rr);
    }
  }
}

// Sends one query (RD set, no EDNS, one try) to `server` and waits for the
// reply, at most `timeout` (plus a small margin for the select loop).
Reply Query(const DnsmasqServer& server, const std::string& name, int type,
            absl::Duration timeout = absl::Seconds(2)) {
  static const int init = ares_library_init(ARES_LIB_INIT_ALL);
  EXPECT_EQ(init, ARES_SUCCESS);
  ares_options opts{};
  opts.flags = ARES_FLAG_NOCHECKRESP;  // Deliver SERVFAIL/REFUSED as such.
  opts.timeout = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  opts.tries = 1;
  ares_channel channel = nullptr;
  Reply reply;
  if (ares_init_options(&channel, &opts,
                        ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) !=
      ARES_SUCCESS) {
    ADD_FAILURE() << "ares_init_options";
    return reply;
  }
  EXPECT_EQ(ares_set_servers_ports_csv(channel, server.address().c_str()),
            ARES_SUCCESS);
  bool done = false;
  struct Ctx {
    Reply* reply;
    bool* done;
  } ctx{&reply, &done};
  ares_query(
      channel, name.c_str(), ns_c_in, type,
      [](void* arg, int status, int, unsigned char* abuf, int alen) {
        auto* c = static_cast<Ctx*>(arg);
        c->reply->ares_status = status;
        if (abuf != nullptr && alen > 0) Parse(abuf, alen, c->reply);
        *c->done = true;
      },
      &ctx);
  const absl::Time deadline = absl::Now() + timeout + absl::Seconds(1);
  while (!done && absl::Now() < deadline) {
    fd_set readers, writers;
    FD_ZERO(&readers);
    FD_ZERO(&writers);
    int nfds = ares_fds(channel, &readers, &writers);
    if (nfds == 0) break;
    timeval max{0, 50 * 1000}, tv;
    timeval* tvp = ares_timeout(channel, &max, &tv);
    select(nfds, &readers, &writers, nullptr, tvp);
    ares_process(channel, &readers, &writers);
  }
  ares_destroy(channel);  // Calls the callback with ARES_EDESTRUCTION if due.
  return reply;
}

// PIDs of live processes whose command line mentions `needle`.
std::vector<int> ProcessesMentioning(const std::string& needle) {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = readdir(proc)) {
    const int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
    std::stringstream s;
    s << in.rdbuf();
    if (absl::StrContains(s.str(), needle)) pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

DnsZone BasicZone() {
  DnsZone zone;
  zone.domain = "test";
  zone.ttl = 300;
  zone.hosts = {{"a.test", {"192.0.2.1", "192.0.2.2"}},
                {"both.test", {"192.0.2.3", "2001:db8::3"}},
                {"six.test", {"2001:db8::6"}},
                {"short.test", {"192.0.2.9"}, 77}};
  zone.srv = {{"_sip._udp.pbx.test", "a.test", 5060, 10, 20},
              {"_sip._udp.pbx.test", "ghost.test", 5070, 20, 0},
              {"both.test", "both.test", 5062},
              {"_sip._udp.none.test", ".", 0}};
  zone.cnames = {{"alias.test", "a.test"},
                 {"alias2.test", "alias.test", 55},
                 {"dangling.test", "ghost.test"}};
  return zone;
}

std::unique_ptr<DnsmasqServer> StartOrDie(const DnsZone& zone) {
  auto server = DnsmasqServer::Start(zone);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

TEST(DnsmasqServerTest, AnswersARecord) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(absl::StartsWith(server->address(), "127.0.0.1:"));
  EXPECT_EQ(server->address(), absl::StrCat("127.0.0.1:", server->port()));

  Reply r = Query(*server, "a.test", kTypeA);
  EXPECT_EQ(r.ares_status, ARES_SUCCESS);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_TRUE(r.aa);
  EXPECT_THAT(r.Data(1, kTypeA),
              UnorderedElementsAre("192.0.2.1", "192.0.2.2"));
  for (const Rr& rr : r.rrs) EXPECT_EQ(rr.ttl, 300u) << rr.name;
  EXPECT_THAT(r.Section(2), IsEmpty());
  EXPECT_THAT(r.Section(3), IsEmpty());
}

TEST(DnsmasqServerTest, AnswersSrvWithTargetAddressesInAdditional) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);

  Reply r = Query(*server, "_sip._udp.pbx.test", kTypeSrv);
  EXPECT_EQ(r.ares_status, ARES_SUCCESS);
  EXPECT_TRUE(r.aa);
  EXPECT_THAT(
      r.Data(1, kTypeSrv),
      UnorderedElementsAre("10 20 5060 a.test", "20 0 5070 ghost.test"));
  // The target with a host record comes with its addresses; ghost.test
  // (no host record) with nothing.
  EXPECT_THAT(r.Data(3, kTypeA),
              UnorderedElementsAre("192.0.2.1", "192.0.2.2"));
  for (const Rr& rr : r.Section(3)) EXPECT_EQ(rr.name, "a.test");
  for (const Rr& rr : r.rrs) EXPECT_EQ(rr.ttl, 300u) << rr.name;

  // A and AAAA of a dual-stack target.
  r = Query(*server, "both.test", kTypeSrv);
  EXPECT_THAT(r.Data(1, kTypeSrv), ElementsAre("0 0 5062 both.test"));
  EXPECT_THAT(r.Data(3, kTypeA), ElementsAre("192.0.2.3"));
  EXPECT_THAT(r.Data(3, kTypeAaaa), ElementsAre("2001:db8::3"));
}

TEST(DnsmasqServerTest, SrvWithRootTargetMeansNoService) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  Reply r = Query(*server, "_sip._udp.none.test", kTypeSrv);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_THAT(r.Data(1, kTypeSrv), ElementsAre("0 0 0 ."));
  EXPECT_THAT(r.Section(3), IsEmpty());
}

TEST(DnsmasqServerTest, CnameChainIsAnsweredInOneReply) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);

  Reply r = Query(*server, "alias2.test", kTypeA);
  EXPECT_EQ(r.rcode, 0);
  ASSERT_EQ(r.Section(1).size(), 4u);
  EXPECT_EQ(r.Section(1)[0].name, "alias2.test");
  EXPECT_EQ(r.Section(1)[0].data, "alias.test");
  EXPECT_EQ(r.Section(1)[0].ttl, 55u);  // cname=...,55
  EXPECT_EQ(r.Section(1)[1].name, "alias.test");
  EXPECT_EQ(r.Section(1)[1].data, "a.test");
  EXPECT_EQ(r.Section(1)[1].ttl, 300u);  // local-ttl
  EXPECT_THAT(r.Data(1, kTypeA),
              UnorderedElementsAre("192.0.2.1", "192.0.2.2"));

  // A CNAME whose target has no records: CNAME only, NOERROR.
  r = Query(*server, "dangling.test", kTypeA);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_THAT(r.Data(1, kTypeCname), ElementsAre("ghost.test"));
  EXPECT_EQ(r.Section(1).size(), 1u);

  // The chain is followed for other types too, ending in nothing.
  r = Query(*server, "alias.test", kTypeAaaa);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_THAT(r.Data(1, kTypeCname), ElementsAre("a.test"));
  EXPECT_EQ(r.Section(1).size(), 1u);
}

TEST(DnsmasqServerTest, TtlsComeFromLocalTtlOrTheRecord) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  Reply r = Query(*server, "short.test", kTypeA);
  ASSERT_EQ(r.Section(1).size(), 1u);
  EXPECT_EQ(r.Section(1)[0].ttl, 77u);  // host-record=...,77

  DnsZone zero = BasicZone();
  zero.ttl = 0;
  ASSERT_TRUE(server->Restart(zero).ok());
  r = Query(*server, "_sip._udp.pbx.test", kTypeSrv);
  ASSERT_FALSE(r.rrs.empty());
  for (const Rr& rr : r.rrs) EXPECT_EQ(rr.ttl, 0u) << rr.name;
}

TEST(DnsmasqServerTest, AaaaRecords) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  Reply r = Query(*server, "both.test", kTypeAaaa);
  EXPECT_THAT(r.Data(1, kTypeAaaa), ElementsAre("2001:db8::3"));
  r = Query(*server, "both.test", kTypeA);
  EXPECT_THAT(r.Data(1, kTypeA), ElementsAre("192.0.2.3"));
  r = Query(*server, "six.test", kTypeAaaa);
  EXPECT_THAT(r.Data(1, kTypeAaaa), ElementsAre("2001:db8::6"));
  // v6-only name asked for A, v4-only name asked for AAAA: NODATA.
  r = Query(*server, "six.test", kTypeA);
  EXPECT_EQ(r.ares_status, ARES_ENODATA);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_THAT(r.rrs, IsEmpty());
  r = Query(*server, "a.test", kTypeAaaa);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_THAT(r.rrs, IsEmpty());
}

TEST(DnsmasqServerTest, UnknownNameIsNxdomainWithoutSoa) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  for (int type : {kTypeA, kTypeAaaa, kTypeSrv}) {
    Reply r = Query(*server, "nothere.test", type);
    EXPECT_EQ(r.ares_status, ARES_ENOTFOUND);
    EXPECT_EQ(r.rcode, 3);
    EXPECT_FALSE(r.aa);
    EXPECT_THAT(r.rrs, IsEmpty());  // No SOA: no negative TTL to learn.
  }
  // Below an existing name is still NXDOMAIN.
  EXPECT_EQ(Query(*server, "x.a.test", kTypeA).rcode, 3);
}

TEST(DnsmasqServerTest, NameWithOtherRecordsIsNodataWithoutSoa) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  // Owns only SRV; asked for A.
  Reply r = Query(*server, "_sip._udp.pbx.test", kTypeA);
  EXPECT_EQ(r.ares_status, ARES_ENODATA);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_FALSE(r.aa);
  EXPECT_THAT(r.rrs, IsEmpty());
  // Owns only A; asked for SRV.
  r = Query(*server, "a.test", kTypeSrv);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_THAT(r.rrs, IsEmpty());
  // Empty non-terminals (parents of _sip._udp.pbx.test) are NODATA too.
  EXPECT_EQ(Query(*server, "pbx.test", kTypeA).rcode, 0);
  EXPECT_EQ(Query(*server, "pbx.test", kTypeSrv).rcode, 0);
  EXPECT_EQ(Query(*server, "_udp.pbx.test", kTypeSrv).rcode, 0);
}

TEST(DnsmasqServerTest, NameOutsideTheDomainIsRefused) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  Reply r = Query(*server, "pbx.example.com", kTypeA);
  EXPECT_EQ(r.ares_status, ARES_EREFUSED);
  EXPECT_EQ(r.rcode, 5);
}

TEST(DnsmasqServerTest, AuthoritativeZoneHasSoaInNegativeAnswers) {
  DnsZone zone = BasicZone();
  zone.authoritative = true;
  zone.ttl = 120;
  auto server = StartOrDie(zone);
  ASSERT_NE(server, nullptr);

  Reply r = Query(*server, "nothere.test", kTypeA);
  EXPECT_EQ(r.rcode, 3);
  EXPECT_TRUE(r.aa);
  ASSERT_EQ(r.Section(2).size(), 1u);
  const Rr soa = r.Section(2)[0];
  EXPECT_EQ(soa.type, kTypeSoa);
  EXPECT_EQ(soa.name, "test");
  EXPECT_EQ(soa.ttl, 120u);
  EXPECT_TRUE(absl::StartsWith(soa.data, "ns.test hostmaster.ns.test "));
  EXPECT_TRUE(absl::EndsWith(soa.data, " 120")) << soa.data;  // MINIMUM

  r = Query(*server, "_sip._udp.pbx.test", kTypeA);  // NODATA
  EXPECT_EQ(r.rcode, 0);
  EXPECT_THAT(r.Section(1), IsEmpty());
  ASSERT_EQ(r.Section(2).size(), 1u);
  EXPECT_EQ(r.Section(2)[0].type, kTypeSoa);

  // Positive answers: every TTL is auth-ttl (the 77 and 55 are ignored), NS
  // in authority, and no additional section even for SRV.
  r = Query(*server, "short.test", kTypeA);
  EXPECT_THAT(r.Data(1, kTypeA), ElementsAre("192.0.2.9"));
  EXPECT_EQ(r.Section(1)[0].ttl, 120u);
  EXPECT_THAT(r.Data(2, kTypeNs), ElementsAre("ns.test"));
  r = Query(*server, "alias.test", kTypeA);
  EXPECT_EQ(r.Section(1).size(), 3u);  // CNAME + 2 A
  // Only one CNAME is followed: CNAME -> CNAME -> A ends after the first.
  r = Query(*server, "alias2.test", kTypeA);
  EXPECT_THAT(r.Data(1, kTypeCname), ElementsAre("alias.test"));
  EXPECT_EQ(r.Section(1).size(), 1u);
  r = Query(*server, "_sip._udp.pbx.test", kTypeSrv);
  EXPECT_EQ(r.Data(1, kTypeSrv).size(), 2u);
  EXPECT_THAT(r.Section(3), IsEmpty());
  for (const Rr& rr : r.rrs) EXPECT_EQ(rr.ttl, 120u) << rr.name;
  EXPECT_EQ(server->CountQueries("_sip._udp.pbx.test", "SRV"), 1);
}

TEST(DnsmasqServerTest, ServfailDomain) {
  DnsZone zone = BasicZone();
  zone.servfail_domains = {"broken.test"};
  auto server = StartOrDie(zone);
  ASSERT_NE(server, nullptr);
  Reply r = Query(*server, "_sip._udp.pbx.broken.test", kTypeSrv);
  EXPECT_EQ(r.ares_status, ARES_ESERVFAIL);
  EXPECT_EQ(r.rcode, 2);
  EXPECT_EQ(Query(*server, "broken.test", kTypeA).rcode, 2);
  // The rest of the domain is unaffected.
  EXPECT_EQ(Query(*server, "a.test", kTypeA).rcode, 0);
  EXPECT_EQ(Query(*server, "nothere.test", kTypeA).rcode, 3);
  EXPECT_EQ(server->CountQueries("_sip._udp.pbx.broken.test", "SRV"), 1);
  // Not cached: asked again, dnsmasq forwards again.
  EXPECT_EQ(Query(*server, "_sip._udp.pbx.broken.test", kTypeSrv).rcode, 2);
  EXPECT_EQ(server->CountQueries("_sip._udp.pbx.broken.test", "SRV"), 2);
  const std::string log = server->ReadLog();
  size_t forwarded = 0;
  for (size_t pos = 0; (pos = log.find("forwarded _sip._udp.pbx.broken.test",
                                       pos)) != std::string::npos;
       ++pos) {
    ++forwarded;
  }
  EXPECT_GE(forwarded, 2u) << log;
}

TEST(DnsmasqServerTest, SilentDomainTimesOut) {
  DnsZone zone = BasicZone();
  zone.silent_domains = {"slow.test"};
  auto server = StartOrDie(zone);
  ASSERT_NE(server, nullptr);
  Reply r = Query(*server, "pbx.slow.test", kTypeA, absl::Milliseconds(300));
  EXPECT_EQ(r.ares_status, ARES_ETIMEOUT);
  EXPECT_FALSE(r.has_packet);
  EXPECT_EQ(Query(*server, "a.test", kTypeA).rcode, 0);
  EXPECT_EQ(server->CountQueries("pbx.slow.test", "A"), 1);
}

TEST(DnsmasqServerTest, RestartOnTheSamePortServesTheNewZone) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  EXPECT_THAT(Query(*server, "a.test", kTypeA).Data(1, kTypeA),
              UnorderedElementsAre("192.0.2.1", "192.0.2.2"));

  DnsZone changed = BasicZone();
  changed.hosts[0].addresses = {"198.51.100.7"};
  changed.srv.pop_back();
  ASSERT_TRUE(server->Restart(changed).ok());
  EXPECT_EQ(server->port(), port);
  EXPECT_TRUE(server->running());
  EXPECT_THAT(Query(*server, "a.test", kTypeA).Data(1, kTypeA),
              ElementsAre("198.51.100.7"));
  EXPECT_EQ(Query(*server, "_sip._udp.none.test", kTypeSrv).rcode, 3);
  // The query log carries over.
  EXPECT_EQ(server->CountQueries("a.test", "A"), 2);

  // Restart after Stop works too.
  server->Stop();
  EXPECT_FALSE(server->running());
  EXPECT_EQ(Query(*server, "a.test", kTypeA, absl::Milliseconds(200)).rcode,
            -1);
  ASSERT_TRUE(server->Restart(BasicZone()).ok());
  EXPECT_EQ(server->port(), port);
  EXPECT_EQ(Query(*server, "a.test", kTypeA).Data(1, kTypeA).size(), 2u);
}

TEST(DnsmasqServerTest, PauseMakesQueriesTimeOutAndResumeRestores) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  server->Pause();
  Reply r = Query(*server, "a.test", kTypeA, absl::Milliseconds(300));
  EXPECT_EQ(r.ares_status, ARES_ETIMEOUT);
  EXPECT_FALSE(r.has_packet);
  server->Resume();
  r = Query(*server, "a.test", kTypeA);
  EXPECT_EQ(r.ares_status, ARES_SUCCESS);
  EXPECT_EQ(r.Data(1, kTypeA).size(), 2u);
  // The query sent while paused was read after Resume.
  EXPECT_TRUE(server->WaitForQueries("a.test", "A", 2, absl::Seconds(30)));

  // Stop and Restart work on a paused server.
  server->Pause();
  ASSERT_TRUE(server->Restart(BasicZone()).ok());
  EXPECT_EQ(Query(*server, "a.test", kTypeA).rcode, 0);
}

TEST(DnsmasqServerTest, CountQueriesCountsWhatDnsmasqReceived) {
  auto server = StartOrDie(BasicZone());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->CountQueries("a.test", "A"), 0);
  // The log line is written before the answer is sent: no waiting needed.
  for (int i = 1; i <= 30; ++i) {
    Query(*server, "a.test", kTypeA);
    ASSERT_EQ(server->CountQueries("a.test", "A"), i);
  }
  Query(*server, "_sip._udp.pbx.test", kTypeSrv);
  Query(*server, "pbx.test", kTypeSrv);
  Query(*server, "nothere.test", kTypeAaaa);
  EXPECT_EQ(server->CountQueries("_sip._udp.pbx.test", "SRV"), 1);
  EXPECT_EQ(server->CountQueries("_SIP._udp.PBX.test.", "srv"), 1);
  EXPECT_EQ(server->CountQueries("pbx.test", "SRV"), 1);
  EXPECT_EQ(server->CountQueries("pbx.test", "A"), 0);
  EXPECT_EQ(server->CountQueries("nothere.test", "AAAA"), 1);
  EXPECT_EQ(server->CountQueries("a.test", "AAAA"), 0);

  server->ResetQueryCounts();
  EXPECT_EQ(server->CountQueries("a.test", "A"), 0);
  Query(*server, "a.test", kTypeA);
  EXPECT_EQ(server->CountQueries("a.test", "A"), 1);
  EXPECT_TRUE(server->WaitForQueries("a.test", "A", 1, absl::Seconds(1)));
  const absl::Time start = absl::Now();
  EXPECT_FALSE(
      server->WaitForQueries("a.test", "A", 2, absl::Milliseconds(100)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(DnsmasqServerTest, BadConfigFailsWithDnsmasqStderr) {
  DnsZone zone = BasicZone();
  zone.extra_lines = {"no-such-option=1"};
  auto server = DnsmasqServer::Start(zone);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "bad option"))
      << server.status();

  zone = BasicZone();
  zone.hosts.push_back({"bad,name.test", {"192.0.2.1"}});
  EXPECT_EQ(DnsmasqServer::Start(zone).status().code(),
            absl::StatusCode::kInvalidArgument);

  zone = BasicZone();
  zone.authoritative = true;
  zone.servfail_domains = {"broken.test"};
  EXPECT_EQ(DnsmasqServer::Start(zone).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DnsmasqServerTest, DestructorLeavesNoProcessOrFiles) {
  std::string config, dir;
  {
    auto server = StartOrDie(BasicZone());
    ASSERT_NE(server, nullptr);
    config = server->config_path();
    EXPECT_EQ(ProcessesMentioning(config).size(), 1u);
    server->Pause();  // Must not prevent the shutdown.
  }
  EXPECT_THAT(ProcessesMentioning(config), IsEmpty());
  std::ifstream in(config);
  EXPECT_FALSE(in.good());
}

// What the readiness probes add to an answer: that it came from the server
// just started, not from another test's that had taken the port.
TEST(ListensOnTcpTest, TellsWhichProcessHoldsTheListener) {
  ScopedFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const uint16_t port = BindLoopback(listener.get(), 0);
  ASSERT_NE(port, 0);
  EXPECT_FALSE(ListensOnTcp(getpid(), port));  // Bound, not listening yet.
  ASSERT_EQ(listen(listener.get(), 1), 0);
  EXPECT_TRUE(ListensOnTcp(getpid(), port));
  EXPECT_FALSE(ListensOnTcp(getppid(), port));
  listener.Reset();
  EXPECT_FALSE(ListensOnTcp(getpid(), port));
}

}  // namespace
}  // namespace sipresolver::testing
