// The report line both agents take on --report_socket
// (client/device_report.h): "ADDRESS:PORT CODE", every accepted and every
// refused form.
#include "client/device_report.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

struct Parsed {
  bool ok = false;
  device_report report = {};
  std::string error;
};

Parsed Parse(const std::string& line) {
  Parsed p;
  const char* error = nullptr;
  p.ok = device_report_parse(line.data(), line.size(), &p.report, &error) == 0;
  if (!p.ok) p.error = error;
  return p;
}

void ExpectReport(const std::string& line, const std::string& address,
                  uint32_t port, uint32_t code) {
  SCOPED_TRACE(line);
  const Parsed p = Parse(line);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.report.address, address);
  EXPECT_EQ(p.report.port, port);
  EXPECT_EQ(p.report.code, code);
}

void ExpectRefused(const std::string& line, const std::string& error) {
  SCOPED_TRACE(line);
  const Parsed p = Parse(line);
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.error, error);
}

TEST(DeviceReportTest, AcceptsIPv4) {
  ExpectReport("192.0.2.11:5060 408", "192.0.2.11", 5060, 408);
}

TEST(DeviceReportTest, AcceptsIPv6InBracketsAsItsCanonicalText) {
  ExpectReport("[2001:db8::1]:5060 200", "2001:db8::1", 5060, 200);
  ExpectReport("[2001:DB8:0:0::1]:5060 200", "2001:db8::1", 5060, 200);
}

TEST(DeviceReportTest, AcceptsCodeZeroForNoResponse) {
  ExpectReport("192.0.2.11:5060 0", "192.0.2.11", 5060, 0);
}

TEST(DeviceReportTest, AcceptsEveryCodeFrom100To699) {
  ExpectReport("192.0.2.11:5060 100", "192.0.2.11", 5060, 100);
  ExpectReport("192.0.2.11:5060 699", "192.0.2.11", 5060, 699);
}

TEST(DeviceReportTest, AcceptsPortsOneTo65535) {
  ExpectReport("192.0.2.11:1 503", "192.0.2.11", 1, 503);
  ExpectReport("192.0.2.11:65535 503", "192.0.2.11", 65535, 503);
}

TEST(DeviceReportTest, AcceptsBlanksTabsAndTrailingCarriageReturn) {
  ExpectReport("  192.0.2.11:5060 \t 408 \r", "192.0.2.11", 5060, 408);
  ExpectReport("192.0.2.11:5060\t408\r", "192.0.2.11", 5060, 408);
}

TEST(DeviceReportTest, RefusesWhatIsNotAddressPortCode) {
  ExpectRefused("", "expected ADDRESS:PORT CODE");
  ExpectRefused("garbage", "expected ADDRESS:PORT CODE");
  ExpectRefused("192.0.2.11 408", "expected ADDRESS:PORT CODE");
  ExpectRefused("192.0.2.11:5060", "expected ADDRESS:PORT CODE");
  ExpectRefused("192.0.2.11:5060   ", "expected ADDRESS:PORT CODE");
}

TEST(DeviceReportTest, RefusesAddressesThatAreNotIPs) {
  ExpectRefused("pbx.example.com:5060 408", "ADDRESS must be an IP address");
  ExpectRefused(":5060 408", "ADDRESS must be an IP address");
  ExpectRefused("[]:5060 408", "ADDRESS must be an IP address");
  ExpectRefused("[192.0.2.11]:5060 408", "ADDRESS must be an IP address");
  ExpectRefused("192.0.2.256:5060 408", "ADDRESS must be an IP address");
  ExpectRefused(std::string(46, '1') + ":5060 408",
                "ADDRESS must be an IP address");
  // Nothing after a NUL is silently dropped.
  ExpectRefused(std::string("192.0.2.1\0junk:5060 408", 23),
                "ADDRESS must be an IP address");
}

TEST(DeviceReportTest, RefusesIPv6WithoutBrackets) {
  ExpectRefused("2001:db8::1:5060 408",
                "an IPv6 ADDRESS goes in brackets: [2001:db8::1]:5060");
  ExpectRefused("[2001:db8::1 408",
                "an IPv6 ADDRESS goes in brackets: [2001:db8::1]:5060");
}

TEST(DeviceReportTest, RefusesBadPorts) {
  for (const char* line :
       {"192.0.2.11:0 408", "192.0.2.11:65536 408", "192.0.2.11:123456 408",
        "192.0.2.11: 408", "192.0.2.11:50x0 408", "192.0.2.11:-1 408"}) {
    ExpectRefused(line, "PORT must be 1-65535");
  }
}

TEST(DeviceReportTest, RefusesBadCodes) {
  for (const char* line :
       {"192.0.2.11:5060 99", "192.0.2.11:5060 700", "192.0.2.11:5060 4080",
        "192.0.2.11:5060 abc", "192.0.2.11:5060 -1",
        "192.0.2.11:5060 408 Request Timeout", "192.0.2.11:5060 408x"}) {
    ExpectRefused(line, "CODE must be 0 or 100-699");
  }
}

TEST(DeviceReportTest, RefusesLinesLongerThan256Bytes) {
  ExpectRefused("192.0.2.11:5060 408" + std::string(300, ' '),
                "line longer than 256 bytes");
}

TEST(DeviceReportTest, RegisteredMeansA2xx) {
  device_report r = {};
  for (uint32_t code : {200u, 202u, 299u}) {
    r.code = code;
    EXPECT_TRUE(device_report_registered(&r)) << code;
  }
  for (uint32_t code : {0u, 100u, 180u, 300u, 401u, 408u, 503u}) {
    r.code = code;
    EXPECT_FALSE(device_report_registered(&r)) << code;
  }
}

std::vector<std::string> Lines(const std::string& datagram) {
  std::vector<std::string> lines;
  const char* cursor = datagram.data();
  const char* end = datagram.data() + datagram.size();
  const char* line;
  size_t len;
  while (device_report_next_line(&cursor, end, &line, &len)) {
    lines.emplace_back(line, len);
  }
  return lines;
}

TEST(DeviceReportTest, DatagramCarriesSeveralLinesAndSkipsEmptyOnes) {
  EXPECT_EQ(Lines("a 1\n\n \r\nb 2\r\n\tc 3"),
            (std::vector<std::string>{"a 1", "b 2\r", "\tc 3"}));
  EXPECT_EQ(Lines(""), std::vector<std::string>{});
  EXPECT_EQ(Lines("\n\n"), std::vector<std::string>{});
  EXPECT_EQ(Lines("x\n"), std::vector<std::string>{"x"});
}

}  // namespace
