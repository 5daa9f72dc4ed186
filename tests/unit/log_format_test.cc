// The log line formats of --log_format: JSON lines a cluster's log pipeline
// parses (checked with protobuf's JSON parser), and text lines that stay one
// line per event whatever a message holds.
#include <string>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/log.h"

namespace sipresolver::server {
namespace {

// 2026-01-02T03:04:05.678 UTC.
absl::Time When() {
  return absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5),
                         absl::UTCTimeZone()) +
         absl::Milliseconds(678);
}

std::string Json(absl::string_view message,
                 absl::Span<const LogField> fields = {},
                 Severity severity = Severity::kInfo) {
  return FormatLogLine(LogFormat::kJson, When(), severity, message, fields);
}

// Parses one line (without its "\n") as a JSON object; fails the test if it
// is not one.
google::protobuf::Struct Parse(const std::string& line) {
  EXPECT_TRUE(absl::EndsWith(line, "}\n")) << line;
  google::protobuf::Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(
      line.substr(0, line.size() - 1), &object);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << line;
  return object;
}

const google::protobuf::Value& Field(const google::protobuf::Struct& o,
                                     const std::string& key) {
  static const google::protobuf::Value kMissing;
  auto it = o.fields().find(key);
  return it == o.fields().end() ? kMissing : it->second;
}

// Exactly one "\n", at the end, and no other control character.
bool IsOneLine(const std::string& line) {
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return absl::EndsWith(line, "\n");
}

TEST(LogFormatTest, JsonLineHasTimeSeverityAndMessageFirst) {
  const std::string line = Json("serving gRPC");
  EXPECT_TRUE(absl::StartsWith(
      line,
      R"({"time":"2026-01-02T03:04:05.678Z","severity":"INFO","message":"serving gRPC")"))
      << line;
  const auto o = Parse(line);
  EXPECT_EQ(Field(o, "time").string_value(),
            "2026-01-02T03:04:05.678Z");  // RFC 3339, UTC.
  EXPECT_EQ(Field(o, "severity").string_value(), "INFO");
  EXPECT_EQ(Field(o, "message").string_value(), "serving gRPC");
}

TEST(LogFormatTest, JsonSeverityNamesAreCloudLoggingSeverities) {
  EXPECT_EQ(Field(Parse(Json("x", {}, Severity::kWarning)), "severity")
                .string_value(),
            "WARNING");
  EXPECT_EQ(
      Field(Parse(Json("x", {}, Severity::kError)), "severity").string_value(),
      "ERROR");
}

TEST(LogFormatTest, JsonTimeKeepsMillisecondsAndIsUtc) {
  const std::string line = FormatLogLine(
      LogFormat::kJson, absl::FromUnixSeconds(0), Severity::kInfo, "x", {});
  EXPECT_EQ(Field(Parse(line), "time").string_value(),
            "1970-01-01T00:00:00.000Z");
}

TEST(LogFormatTest, JsonFieldsAreTopLevelKeysWithTheirTypes) {
  const auto o =
      Parse(Json("endpoint health changed",
                 {{"endpoint", "192.0.2.7:5060"},
                  {"port", 50051},
                  {"credential_domains", size_t{3}},
                  {"devices_confirm_failure", false},
                  LogField::List("servers", std::vector<std::string>{
                                                "a.example", "b.example"})}));
  EXPECT_EQ(Field(o, "endpoint").string_value(), "192.0.2.7:5060");
  EXPECT_EQ(Field(o, "port").number_value(), 50051);
  EXPECT_EQ(Field(o, "credential_domains").number_value(), 3);
  EXPECT_EQ(Field(o, "devices_confirm_failure").kind_case(),
            google::protobuf::Value::kBoolValue);
  EXPECT_FALSE(Field(o, "devices_confirm_failure").bool_value());
  const auto& servers = Field(o, "servers").list_value();
  ASSERT_EQ(servers.values_size(), 2);
  EXPECT_EQ(servers.values(1).string_value(), "b.example");
}

TEST(LogFormatTest, JsonEscapesQuotesBackslashesNewlinesAndControlCharacters) {
  const std::string nasty =
      "say \"hi\"\\ \n second line\r\t\b\f\x01\x1f\x7f end";
  const std::string line = Json(nasty, {{"error", nasty}, {nasty, "as a key"}});
  EXPECT_TRUE(IsOneLine(line)) << line;
  EXPECT_NE(
      line.find(R"(say \"hi\"\\ \n second line\r\t\b\f\u0001\u001f\u007f end)"),
      std::string::npos)
      << line;
  const auto o = Parse(line);
  EXPECT_EQ(Field(o, "message").string_value(), nasty);  // Round trip.
  EXPECT_EQ(Field(o, "error").string_value(), nasty);
  EXPECT_EQ(Field(o, nasty).string_value(), "as a key");
}

TEST(LogFormatTest, JsonKeepsUtf8AndReplacesInvalidBytes) {
  const auto o = Parse(Json("caf\xc3\xa9", {{"bad",
                                             "a\xff"
                                             "b\xc3"},
                                            {"overlong", "\xc0\xaf"}}));
  EXPECT_EQ(Field(o, "message").string_value(), "caf\xc3\xa9");
  EXPECT_EQ(Field(o, "bad").string_value(),
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd");  // U+FFFD.
  EXPECT_EQ(Field(o, "overlong").string_value(), "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(LogFormatTest, TextLineIsTimestampNameMessageAndFields) {
  const std::string line = FormatLogLine(
      LogFormat::kText, When(), Severity::kInfo, "serving gRPC",
      {{"listen", "[::]:50051"}, {"port", 50051}, {"tls", "off"}});
  EXPECT_EQ(
      line,
      "2026-01-02T03:04:05.678Z sipresolverd: serving gRPC listen=[::]:50051 "
      "port=50051 tls=off\n");
}

TEST(LogFormatTest, TextShowsSeverityAboveInfoAndQuotesValuesWithSpaces) {
  const std::string line = FormatLogLine(
      LogFormat::kText, When(), Severity::kWarning, "endpoint health changed",
      {{"last_error", "no \"answer\""},
       {"empty", ""},
       LogField::List("servers", std::vector<std::string>{"a", "b"})});
  EXPECT_EQ(
      line,
      "2026-01-02T03:04:05.678Z sipresolverd: WARNING endpoint health changed "
      "last_error=\"no \\\"answer\\\"\" empty=\"\" servers=a,b\n");
}

TEST(LogFormatTest, TextEscapesControlCharactersSoOneEventIsOneLine) {
  const std::string line =
      FormatLogLine(LogFormat::kText, When(), Severity::kError, "cannot start",
                    {{"error", "line 1\nline 2\x01"}});
  EXPECT_TRUE(IsOneLine(line)) << line;
  EXPECT_NE(line.find(R"(error="line 1\nline 2\x01")"), std::string::npos)
      << line;
}

TEST(LogFormatTest, ParseLogFormatAcceptsTextAndJsonOnly) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  for (absl::string_view bad : {"", "JSON", "logfmt", "json "}) {
    const auto parsed = ParseLogFormat(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "--log_format"))
        << parsed.status();
  }
}

}  // namespace
}  // namespace sipresolver::server
