#include "server/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpc/support/log.h"

namespace sipresolver::server {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

// Length of the valid UTF-8 sequence at s[i], or 0 if there is none
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  size_t n = 0;
  uint32_t cp = 0;
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2, cp = b & 0x1f;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3, cp = b & 0x0f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4, cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
  return n;
}

// A JSON string literal (RFC 8259), quotes included.
void AppendJsonString(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

// Text: control characters shown escaped, so that one event stays one line.
void AppendText(std::string& out, absl::string_view s) {
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else {
      out.push_back(ch);
    }
  }
}

// key=value; a value that is empty or holds spaces, quotes or '=' is quoted.
void AppendTextValue(std::string& out, absl::string_view value) {
  const bool quote =
      value.empty() || value.find_first_of(" \"=\\") != value.npos;
  if (!quote) return AppendText(out, value);
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    AppendText(out, absl::string_view(&c, 1));
  }
  out.push_back('"');
}

struct JsonValue {
  std::string& out;
  void operator()(const std::string& s) { AppendJsonString(out, s); }
  void operator()(int64_t n) { absl::StrAppend(&out, n); }
  void operator()(bool b) { out.append(b ? "true" : "false"); }
  void operator()(const std::vector<std::string>& list) {
    out.push_back('[');
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(out, list[i]);
    }
    out.push_back(']');
  }
};

struct TextValue {
  std::string& out;
  void operator()(const std::string& s) { AppendTextValue(out, s); }
  void operator()(int64_t n) { absl::StrAppend(&out, n); }
  void operator()(bool b) { out.append(b ? "true" : "false"); }
  void operator()(const std::vector<std::string>& list) {
    AppendTextValue(out, absl::StrJoin(list, ","));
  }
};

Severity FromGpr(gpr_log_severity severity) {
  return severity == GPR_LOG_SEVERITY_ERROR ? Severity::kError
                                            : Severity::kInfo;
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log_format must be text or json, not \"", name, "\""));
}

absl::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "INFO";
    case Severity::kWarning:
      return "WARNING";
    case Severity::kError:
      return "ERROR";
  }
  return "DEFAULT";
}

std::string FormatLogLine(LogFormat format, absl::Time time, Severity severity,
                          absl::string_view message,
                          absl::Span<const LogField> fields) {
  // RFC 3339 in UTC with milliseconds, e.g. 2026-01-02T03:04:05.678Z.
  const std::string when =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  std::string line;
  if (format == LogFormat::kJson) {
    absl::StrAppend(&line, "{\"time\":\"", when, "\",\"severity\":\"",
                    SeverityName(severity), "\",\"message\":");
    AppendJsonString(line, message);
    for (const LogField& f : fields) {
      line.push_back(',');
      AppendJsonString(line, f.key());
      line.push_back(':');
      std::visit(JsonValue{line}, f.value());
    }
    line.append("}\n");
    return line;
  }
  absl::StrAppend(&line, when, " sipresolverd: ");
  if (severity != Severity::kInfo)
    absl::StrAppend(&line, SeverityName(severity), " ");
  AppendText(line, message);
  for (const LogField& f : fields) {
    line.push_back(' ');
    AppendText(line, f.key());
    line.push_back('=');
    std::visit(TextValue{line}, f.value());
  }
  line.push_back('\n');
  return line;
}

void SetLogFormat(LogFormat format) { g_format.store(format); }

void Log(Severity severity, absl::string_view message,
         absl::Span<const LogField> fields) {
  const std::string line =
      FormatLogLine(g_format.load(), absl::Now(), severity, message, fields);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void RouteGrpcLogs() {
  gpr_set_log_function([](gpr_log_func_args* args) {
    Log(FromGpr(args->severity), args->message == nullptr ? "" : args->message,
        {{"logger", "grpc"},
         {"source", absl::StrCat(args->file == nullptr ? "" : args->file, ":",
                                 args->line)}});
  });
}

}  // namespace sipresolver::server
