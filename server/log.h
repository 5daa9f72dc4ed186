// sipresolverd's log: one line per event on stderr, which the container
// runtime collects. (Abseil 20220623 has no logging library.)
//
// Two formats, chosen once at start-up by --log_format:
//   text  2026-01-02T03:04:05.678Z sipresolverd: serving gRPC listen=[::]:50051
//   json  {"time":"2026-01-02T03:04:05.678Z","severity":"INFO",
//          "message":"serving gRPC","listen":"[::]:50051"}
// JSON is one object per line, what cluster log pipelines (Loki, Elasticsearch,
// Cloud Logging) parse: `time` is RFC 3339 in UTC, `severity` is a Cloud
// Logging LogSeverity name, every field is a top-level key to filter on.
// Messages are short and constant ("endpoint state changed"); what varies
// goes into fields. gRPC's own log lines are routed through here too.
//
// Never log a secret: no password, probe credential or key material goes into
// a message or a field.
//
// Thread-safe: each line is written with one call to stderr.
#ifndef SIPRESOLVER_SERVER_LOG_H_
#define SIPRESOLVER_SERVER_LOG_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace sipresolver::server {

enum class LogFormat { kText, kJson };
enum class Severity { kInfo, kWarning, kError };

// "text" or "json"; INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);
// INFO, WARNING, ERROR.
absl::string_view SeverityName(Severity severity);

// One structured field: a string, an integer, a boolean or a list of strings.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value)
      : key_(key), value_(std::string(value)) {}
  LogField(absl::string_view key, const char* value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, const std::string& value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, bool value) : key_(key), value_(value) {}
  template <typename Int,
            std::enable_if_t<
                std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  LogField(absl::string_view key, Int value)
      : key_(key), value_(static_cast<int64_t>(value)) {}
  LogField(absl::string_view key, std::vector<std::string> values)
      : key_(key), value_(std::move(values)) {}
  // From any range of strings (a std::set, a Span).
  template <typename Range>
  static LogField List(absl::string_view key, const Range& values) {
    return LogField(key,
                    std::vector<std::string>(values.begin(), values.end()));
  }

  const std::string& key() const { return key_; }
  using Value =
      std::variant<std::string, int64_t, bool, std::vector<std::string>>;
  const Value& value() const { return value_; }

 private:
  std::string key_;
  Value value_;
};

// The line for one event, ending in "\n". Pure: what Log writes, for tests.
// Control characters never end up raw in a line (JSON escapes them, text
// shows them as \n, \t, \xNN); invalid UTF-8 becomes U+FFFD in JSON.
std::string FormatLogLine(LogFormat format, absl::Time time, Severity severity,
                          absl::string_view message,
                          absl::Span<const LogField> fields);

// Process-wide; text until set. Call before other threads log.
void SetLogFormat(LogFormat format);

void Log(Severity severity, absl::string_view message,
         absl::Span<const LogField> fields = {});
inline void Log(absl::string_view message,
                absl::Span<const LogField> fields = {}) {
  Log(Severity::kInfo, message, fields);
}

// gRPC's own log lines (gpr_log) go through Log in the chosen format, with
// their source file and line as fields.
void RouteGrpcLogs();

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_LOG_H_
