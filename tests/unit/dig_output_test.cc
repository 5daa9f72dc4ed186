// ParseDigOutput on outputs of dig 9.18 (Debian 12 bind9-dnsutils) captured
// from PowerDNS 4.7.3 with a remote backend: no dig is run here.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/dig.h"

namespace sipresolver::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kSrv[] = R"dig(
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 25353 @127.0.0.1 +tries=1 +time=2 +norecurse _sip._udp.fleet.test SRV
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 43581
;; flags: qr aa; QUERY: 1, ANSWER: 4, AUTHORITY: 0, ADDITIONAL: 4

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;_sip._udp.fleet.test.		IN	SRV

;; ANSWER SECTION:
_sip._udp.fleet.test.	30	IN	SRV	20 5 5060 b.fleet.test.
_sip._udp.fleet.test.	30	IN	SRV	10 5 5060 a.fleet.test.
_sip._udp.fleet.test.	30	IN	SRV	10 5 5060 z.fleet.test.
_sip._udp.fleet.test.	30	IN	SRV	30 1 5061 m.fleet.test.

;; ADDITIONAL SECTION:
a.fleet.test.		30	IN	A	192.0.2.9
a.fleet.test.		30	IN	A	192.0.2.5
a.fleet.test.		30	IN	A	192.0.2.1

;; Query time: 4 msec
;; SERVER: 127.0.0.1#25353(127.0.0.1) (UDP)
;; WHEN: Mon Dec 07 11:37:10 UTC 2026
;; MSG SIZE  rcvd: 225

)dig";

constexpr char kNxdomain[] = R"dig(
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 25353 @127.0.0.1 +tries=1 +time=2 +norecurse nx.fleet.test A
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 13992
;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;nx.fleet.test.			IN	A

;; AUTHORITY SECTION:
fleet.test.		5	IN	SOA	ns1.fleet.test. hostmaster.fleet.test. 1 3600 600 86400 5

;; Query time: 12 msec
;; SERVER: 127.0.0.1#25353(127.0.0.1) (UDP)
;; WHEN: Mon Dec 07 11:37:10 UTC 2026
;; MSG SIZE  rcvd: 93

)dig";

constexpr char kNodata[] = R"dig(
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 25353 @127.0.0.1 +tries=1 +time=2 +norecurse ent.fleet.test A
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 33012
;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;ent.fleet.test.			IN	A

;; AUTHORITY SECTION:
fleet.test.		5	IN	SOA	ns1.fleet.test. hostmaster.fleet.test. 1 3600 600 86400 5

;; Query time: 4 msec
;; SERVER: 127.0.0.1#25353(127.0.0.1) (UDP)
;; WHEN: Mon Dec 07 11:37:10 UTC 2026
;; MSG SIZE  rcvd: 94

)dig";

constexpr char kServfail[] = R"dig(
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 25353 @127.0.0.1 +tries=1 +time=2 +norecurse err.fleet.test A
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: SERVFAIL, id: 1368
;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;err.fleet.test.			IN	A

;; Query time: 0 msec
;; SERVER: 127.0.0.1#25353(127.0.0.1) (UDP)
;; WHEN: Mon Dec 07 11:37:10 UTC 2026
;; MSG SIZE  rcvd: 43

)dig";

constexpr char kRefused[] = R"dig(
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 25353 @127.0.0.1 +tries=1 +time=2 +norecurse other.example A
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: REFUSED, id: 15890
;; flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;other.example.			IN	A

;; Query time: 4 msec
;; SERVER: 127.0.0.1#25353(127.0.0.1) (UDP)
;; WHEN: Mon Dec 07 11:37:10 UTC 2026
;; MSG SIZE  rcvd: 42

)dig";

constexpr char kChaosTxt[] = R"dig(
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 25353 @127.0.0.1 +tries=1 +time=2 +norecurse version.bind CH TXT
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 58591
;; flags: qr aa; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;version.bind.			CH	TXT

;; ANSWER SECTION:
version.bind.		5	CH	TXT	"PowerDNS Authoritative Server 4.7.3"

;; Query time: 0 msec
;; SERVER: 127.0.0.1#25353(127.0.0.1) (UDP)
;; WHEN: Mon Dec 07 11:37:10 UTC 2026
;; MSG SIZE  rcvd: 89

)dig";

constexpr char kNoServer[] =
    R"dig(;; communications error to 127.0.0.1#25354: connection refused

; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 25354 @127.0.0.1 +tries=1 +time=1 +norecurse x.test A
; (1 server found)
;; global options: +cmd
;; no servers could be reached
)dig";

TEST(DigOutputTest, ParsesAnswerAndAdditionalInOrder) {
  absl::StatusOr<DigAnswer> a = ParseDigOutput(kSrv);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->rcode, "NOERROR");
  EXPECT_TRUE(a->authoritative);
  EXPECT_THAT(a->answer,
              ElementsAre(DigRecord{"_sip._udp.fleet.test.", 30, "SRV",
                                    "20 5 5060 b.fleet.test."},
                          DigRecord{"_sip._udp.fleet.test.", 30, "SRV",
                                    "10 5 5060 a.fleet.test."},
                          DigRecord{"_sip._udp.fleet.test.", 30, "SRV",
                                    "10 5 5060 z.fleet.test."},
                          DigRecord{"_sip._udp.fleet.test.", 30, "SRV",
                                    "30 1 5061 m.fleet.test."}));
  EXPECT_THAT(
      a->AnswerData("SRV"),
      ElementsAre("20 5 5060 b.fleet.test.", "10 5 5060 a.fleet.test.",
                  "10 5 5060 z.fleet.test.", "30 1 5061 m.fleet.test."));
  EXPECT_THAT(a->SrvPorts(), ElementsAre(5060, 5060, 5060, 5061));
  EXPECT_THAT(a->AnswerData("A"), IsEmpty());
  EXPECT_THAT(a->authority, IsEmpty());
  EXPECT_FALSE(a->Soa().has_value());
  EXPECT_FALSE(a->NegativeTtl().has_value());
  // The OPT pseudo-section is not a record.
  EXPECT_THAT(a->additional,
              ElementsAre(DigRecord{"a.fleet.test.", 30, "A", "192.0.2.9"},
                          DigRecord{"a.fleet.test.", 30, "A", "192.0.2.5"},
                          DigRecord{"a.fleet.test.", 30, "A", "192.0.2.1"}));
}

TEST(DigOutputTest, NxdomainCarriesTheSoa) {
  absl::StatusOr<DigAnswer> a = ParseDigOutput(kNxdomain);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->rcode, "NXDOMAIN");
  EXPECT_TRUE(a->authoritative);
  EXPECT_THAT(a->answer, IsEmpty());
  EXPECT_THAT(a->SrvPorts(), IsEmpty());
  ASSERT_TRUE(a->Soa().has_value());
  EXPECT_EQ(
      *a->Soa(),
      (DigRecord{"fleet.test.", 5, "SOA",
                 "ns1.fleet.test. hostmaster.fleet.test. 1 3600 600 86400 5"}));
  EXPECT_EQ(a->NegativeTtl(), 5u);
}

TEST(DigOutputTest, NodataIsNoerrorWithoutAnswer) {
  absl::StatusOr<DigAnswer> a = ParseDigOutput(kNodata);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->rcode, "NOERROR");
  EXPECT_THAT(a->answer, IsEmpty());
  EXPECT_EQ(a->NegativeTtl(), 5u);
}

TEST(DigOutputTest, NegativeTtlIsTheSmallerOfSoaTtlAndMinimum) {
  std::string out = kNxdomain;
  out.replace(out.find("86400 5"), 7, "86400 60");
  absl::StatusOr<DigAnswer> a = ParseDigOutput(out);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->NegativeTtl(), 5u);  // The SOA's own TTL.
}

TEST(DigOutputTest, ServfailAndRefused) {
  absl::StatusOr<DigAnswer> servfail = ParseDigOutput(kServfail);
  ASSERT_TRUE(servfail.ok()) << servfail.status();
  EXPECT_EQ(servfail->rcode, "SERVFAIL");
  EXPECT_THAT(servfail->answer, IsEmpty());
  EXPECT_THAT(servfail->authority, IsEmpty());

  absl::StatusOr<DigAnswer> refused = ParseDigOutput(kRefused);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->rcode, "REFUSED");
  EXPECT_FALSE(refused->authoritative);
}

TEST(DigOutputTest, RdataWithSpacesAndOtherClass) {
  absl::StatusOr<DigAnswer> a = ParseDigOutput(kChaosTxt);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->answer, ElementsAre(DigRecord{
                             "version.bind.", 5, "TXT",
                             "\"PowerDNS Authoritative Server 4.7.3\""}));
}

TEST(DigOutputTest, NoReplyIsAnError) {
  EXPECT_FALSE(ParseDigOutput(kNoServer).ok());
  EXPECT_FALSE(ParseDigOutput("").ok());
}

TEST(DigOutputTest, UnreadableRecordIsAnError) {
  std::string out = kNxdomain;
  out.replace(out.find("fleet.test.\t\t5"), 14, "fleet.test.\t\tx");
  EXPECT_FALSE(ParseDigOutput(out).ok());
}

}  // namespace
}  // namespace sipresolver::testing
