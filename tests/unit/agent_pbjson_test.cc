// The device agent's JSON (client/device/pbjson_*.c) against libprotobuf's,
// differentially: a message built with the C++ classes goes over the wire
// into protobuf-c and pbjson_print must print libprotobuf's bytes
// (FormatJson's options, client/command_line.cc); a JSON text goes to both
// pbjson_parse and JsonStringToMessage (MakeWatchRequest's default options)
// and both must accept it with equal messages, or both refuse it.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sipresolver/v1/sipresolver.pb-c.h"
#include "sipresolver/v1/sipresolver.pb.h"

extern "C" {
#include "buf.h"
#include "pbjson.h"
}

namespace sipresolver {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const ProtobufCMessageDescriptor* CDescriptorOf(const Descriptor* d) {
  static const ProtobufCMessageDescriptor* const kAll[] = {
      &sipresolver__v1__resolve_request__descriptor,
      &sipresolver__v1__resolve_response__descriptor,
      &sipresolver__v1__candidate__descriptor,
      &sipresolver__v1__lookup__descriptor,
      &sipresolver__v1__endpoint__descriptor,
      &sipresolver__v1__endpoint_health__descriptor,
      &sipresolver__v1__server_status__descriptor,
      &sipresolver__v1__list_servers_request__descriptor,
      &sipresolver__v1__list_servers_response__descriptor,
      &sipresolver__v1__itsp_profile__descriptor,
      &sipresolver__v1__watch_decision_request__descriptor,
      &sipresolver__v1__decision__descriptor,
      &sipresolver__v1__mapped_address__descriptor,
      &sipresolver__v1__registration_outcome__descriptor,
      &sipresolver__v1__report_observation_request__descriptor,
      &sipresolver__v1__report_observation_response__descriptor,
  };
  for (const ProtobufCMessageDescriptor* c : kAll)
    if (d->full_name() == c->name) return c;
  return nullptr;
}

std::vector<const Descriptor*> ApiMessages() {
  const auto* file = v1::Decision::descriptor()->file();
  std::vector<const Descriptor*> all;
  for (int i = 0; i < file->message_type_count(); ++i)
    all.push_back(file->message_type(i));
  return all;
}

// libprotobuf's JSON with FormatJson's options; nullopt when it refuses.
std::optional<std::string> LibprotobufJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = false;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(m, &json, options).ok())
    return std::nullopt;
  return json;
}

// pbjson's JSON of the same message, received over the wire as the agent
// receives it; nullopt when it refuses.
std::optional<std::string> PbjsonJson(const Message& m) {
  const std::string wire = m.SerializeAsString();
  ProtobufCMessage* c = protobuf_c_message_unpack(
      CDescriptorOf(m.GetDescriptor()), nullptr, wire.size(),
      reinterpret_cast<const uint8_t*>(wire.data()));
  EXPECT_NE(c, nullptr);
  if (c == nullptr) return std::nullopt;
  struct buf out = BUF_INIT;
  pbjson_print(c, &out);
  protobuf_c_message_free_unpacked(c, nullptr);
  std::optional<std::string> json;
  if (!out.failed) json = std::string(out.data, out.len);
  buf_free(&out);
  return json;
}

void ExpectSamePrint(const Message& m) {
  // Serializing a string that is not UTF-8 logs an error; it is the point.
  google::protobuf::LogSilencer quiet;
  EXPECT_EQ(PbjsonJson(m), LibprotobufJson(m)) << m.DebugString();
}

struct Parsed {
  std::unique_ptr<Message> message;  // null: refused
  std::string error;
};

Parsed LibprotobufParse(const Descriptor* d, const std::string& json) {
  Parsed p;
  p.message.reset(google::protobuf::MessageFactory::generated_factory()
                      ->GetPrototype(d)
                      ->New());
  const auto status = google::protobuf::util::JsonStringToMessage(
      json, p.message.get(), google::protobuf::util::JsonParseOptions());
  if (!status.ok()) {
    p.message.reset();
    p.error = status.ToString();
  }
  return p;
}

// pbjson's message, sent over the wire into the C++ class for comparing.
Parsed PbjsonParse(const Descriptor* d, const std::string& json) {
  Parsed p;
  char error[256] = "(not set)";
  // Exactly `json`'s bytes, no NUL after them: ASan sees any read past.
  std::vector<char> bytes(json.begin(), json.end());
  ProtobufCMessage* c = pbjson_parse(CDescriptorOf(d), bytes.data(),
                                     bytes.size(), error, sizeof(error));
  if (c == nullptr) {
    p.error = error;
    return p;
  }
  std::string wire(protobuf_c_message_get_packed_size(c), '\0');
  protobuf_c_message_pack(c, reinterpret_cast<uint8_t*>(wire.data()));
  protobuf_c_message_free_unpacked(c, nullptr);
  p.message.reset(google::protobuf::MessageFactory::generated_factory()
                      ->GetPrototype(d)
                      ->New());
  EXPECT_TRUE(p.message->ParseFromString(wire)) << json;
  return p;
}

// Both accept `json` with equal messages, or both refuse it. Returns
// whether they accepted it.
bool ExpectSameParse(const Descriptor* d, const std::string& json) {
  const Parsed want = LibprotobufParse(d, json);
  const Parsed got = PbjsonParse(d, json);
  // The two differences pinned by StringsEndAtANul and
  // TakesAnOptionalFieldGivenTwice below.
  if ((want.message &&
       got.error.find("NUL inside a string") != std::string::npos) ||
      (got.message && want.error.find("oneof field '_") != std::string::npos))
    return false;
  EXPECT_EQ(got.message != nullptr, want.message != nullptr)
      << d->name() << " " << json
      << "\n libprotobuf: " << (want.message ? "accepts" : want.error)
      << "\n pbjson: " << (got.message ? "accepts" : got.error);
  if (!got.message || !want.message) return false;
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  std::string diff;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(*got.message, *want.message))
      << d->name() << " " << json << "\n"
      << diff;
  return true;
}

// Fills messages of any type with random values, biased to the edges:
// limits, zero, strings that need escaping, bytes that are not UTF-8,
// out-of-range Timestamps and Durations. Fixed seed: reproducible.
class RandomMessages {
 public:
  explicit RandomMessages(uint64_t seed) : rng_(seed) {}

  void Fill(Message* m, int depth = 0) {
    const Descriptor* d = m->GetDescriptor();
    const auto* r = m->GetReflection();
    if (d->full_name() == "google.protobuf.Duration" ||
        d->full_name() == "google.protobuf.Timestamp") {
      FillTime(m, d->full_name() == "google.protobuf.Duration");
      return;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (Chance(2)) continue;
      if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
        if (depth > 3) continue;
        const int n = f->is_repeated() ? Below(4) : 1;
        for (int k = 0; k < n; ++k)
          Fill(f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f),
               depth + 1);
        continue;
      }
      const int n = f->is_repeated() ? Below(4) : 1;
      for (int k = 0; k < n; ++k) SetScalar(m, f);
    }
  }

  int Below(int n) {
    return static_cast<int>(rng_() % static_cast<uint64_t>(n));
  }
  bool Chance(int one_in) { return Below(one_in) == 0; }

  uint64_t Integer() {
    static const uint64_t kEdges[] = {0,
                                      1,
                                      127,
                                      128,
                                      255,
                                      65535,
                                      2147483647,
                                      2147483648u,
                                      4294967295u,
                                      4294967296u,
                                      9007199254740993u,
                                      9223372036854775807u,
                                      9223372036854775808u,
                                      ~uint64_t{0}};
    switch (Below(3)) {
      case 0:
        return kEdges[Below(std::size(kEdges))];
      case 1:
        return rng_() % 100000;
      default:
        return rng_() >> Below(64);
    }
  }

  double Double() {
    static const double kEdges[] = {0.0,
                                    -0.0,
                                    0.5,
                                    1.0 / 3,
                                    0.1,
                                    1e-7,
                                    1e21,
                                    1e22,
                                    123456789012345678.0,
                                    5e-324,
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::min(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::quiet_NaN(),
                                    0.30000000000000004};
    if (Chance(2)) return kEdges[Below(std::size(kEdges))];
    if (Chance(2)) return static_cast<double>(Below(1001)) / 1000;
    const uint64_t bits = rng_();
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
  }

  std::string String(bool utf8_only) {
    static const char* const kPieces[] = {"a",
                                          "Z",
                                          "sip.example.com",
                                          " ",
                                          "\"",
                                          "\\",
                                          "/",
                                          "<",
                                          ">",
                                          "&",
                                          "'",
                                          "\b",
                                          "\f",
                                          "\n",
                                          "\r",
                                          "\t",
                                          "\v",
                                          "\x01",
                                          "\x1f",
                                          "\x7f",
                                          "\xc2\x80",
                                          "\xc2\x9f",
                                          "\xc2\xa0",
                                          "\xc2\xad",
                                          "\xc3\xa9",
                                          "\xe2\x82\xac",
                                          "\xe2\x80\xa8",
                                          "\xe2\x80\xa9",
                                          "\xe2\x80\x8b",
                                          "\xe2\x81\xa0",
                                          "\xef\xbb\xbf",
                                          "\xef\xbf\xb9",
                                          "\xd8\x80",
                                          "\xdb\x9d",
                                          "\xdc\x8f",
                                          "\xe1\x9e\xb4",
                                          "\xf0\x9f\x98\x80",
                                          "\xf3\xa0\x80\x81",
                                          "\xf0\x9d\x85\xb3",
                                          "\xf4\x8f\xbf\xbf",
                                          "\xe4\xb8\xad"};
    static const char* const kBroken[] = {"\x80",         "\xbf",
                                          "\xc3",         "\xc3(",
                                          "\xe2\x82",     "\xed\xa0\x80",
                                          "\xc0\x80",     "\xc1\xbf",
                                          "\xe0\x81\x81", "\xf4\x90\x80\x80",
                                          "\xf8",         "\xff",
                                          "\xf0\x9f\x98"};
    std::string s;
    for (int n = Below(8); n > 0; --n) {
      if (!utf8_only && Chance(6)) {
        s += kBroken[Below(std::size(kBroken))];
      } else {
        s += kPieces[Below(std::size(kPieces))];
      }
    }
    return s;
  }

  bool utf8_only = false;

 private:
  void SetScalar(Message* m, const FieldDescriptor* f) {
    const auto* r = m->GetReflection();
    const bool rep = f->is_repeated();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        const auto v = static_cast<int32_t>(Integer());
        rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        const auto v = static_cast<uint32_t>(Integer());
        rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        const auto v = static_cast<int64_t>(Integer());
        rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        const uint64_t v = Integer();
        rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        const double v = Double();
        rep ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        const bool v = Chance(2);
        rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* e = f->enum_type();
        const int v = Chance(8) ? static_cast<int>(Integer())
                                : e->value(Below(e->value_count()))->number();
        rep ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        const std::string v = String(utf8_only);
        rep ? r->AddString(m, f, v) : r->SetString(m, f, v);
        break;
      }
      default:  // float, bytes: the API has none; pbjson refuses them
        ADD_FAILURE() << "no generator for " << f->full_name();
    }
  }

  // Mostly valid values; sometimes out of range or with mixed signs, which
  // libprotobuf refuses to print.
  void FillTime(Message* m, bool duration) {
    const auto* r = m->GetReflection();
    const auto* d = m->GetDescriptor();
    int64_t seconds =
        duration ? static_cast<int64_t>(rng_() % 631152000001) - 315576000000
                 : static_cast<int64_t>(rng_() % 315537897600) - 62135596800;
    int32_t nanos = static_cast<int32_t>(Chance(3)   ? 0
                                         : Chance(2) ? Below(1000) * 1000000
                                                     : Below(1000000000));
    if (Chance(3)) seconds = static_cast<int64_t>(Integer()) % 100000;
    if (duration && seconds < 0) nanos = -nanos;
    if (Chance(20)) seconds = static_cast<int64_t>(Integer());
    if (Chance(20)) nanos = static_cast<int32_t>(Integer());
    r->SetInt64(m, d->FindFieldByName("seconds"), seconds);
    r->SetInt32(m, d->FindFieldByName("nanos"), nanos);
  }

  std::mt19937_64 rng_;
};

v1::Candidate SampleCandidate(const std::string& address) {
  v1::Candidate c;
  c.set_target("sip.itsp.example");
  c.set_address(address);
  c.set_port(5060);
  c.set_priority(10);
  c.set_weight(60);
  c.set_source(v1::CANDIDATE_SOURCE_SRV_SIP_UDP);
  c.set_ttl_seconds(300);
  auto* h = c.mutable_health();
  h->set_state(v1::HEALTH_STATE_HEALTHY);
  h->set_consecutive_successes(3);
  h->mutable_last_latency()->set_nanos(12500000);
  h->mutable_latency_ewma()->set_seconds(1);
  h->mutable_last_change()->set_seconds(1796580000);
  h->mutable_last_change()->set_nanos(123000000);
  h->set_last_response_code(200);
  h->set_decision_state(v1::HEALTH_STATE_HEALTHY);
  return c;
}

TEST(AgentPbjsonTest, EveryApiMessageHasACDescriptor) {
  for (const Descriptor* d : ApiMessages())
    EXPECT_NE(CDescriptorOf(d), nullptr) << d->full_name();
}

TEST(AgentPbjsonTest, PrintsADecisionAsLibprotobuf) {
  v1::Decision d;
  d.set_version(18446744073709551615u);
  d.set_state(v1::DECISION_STATE_ACTIVE);
  *d.mutable_primary() = SampleCandidate("192.0.2.10");
  *d.mutable_secondary() = SampleCandidate("2001:db8::1");
  *d.add_primary_fallback() = SampleCandidate("192.0.2.11");
  *d.add_primary_fallback() = SampleCandidate("192.0.2.12");
  d.mutable_keep_alive_target()->set_address("192.0.2.10");
  d.mutable_keep_alive_target()->set_port(5060);
  d.mutable_keep_alive_target()->set_transport(v1::TRANSPORT_UDP);
  *d.add_candidates() = SampleCandidate("192.0.2.10");
  d.mutable_next_search_time()->set_seconds(-62135596800);
  d.set_reason(
      "primary 192.0.2.10 <healthy> & \"fast\"\n\xc3\xa9t\xc3\xa9 "
      "\xe2\x80\xa8");
  d.set_heartbeat(true);
  d.mutable_generated_at()->set_seconds(253402300799);
  d.mutable_generated_at()->set_nanos(999999999);
  d.set_assurance(v1::ASSURANCE_UNCONFIRMED);
  d.set_probe_path_suspect(true);
  ExpectSamePrint(d);
  EXPECT_EQ(*PbjsonJson(d), *LibprotobufJson(d));  // and it prints at all
}

TEST(AgentPbjsonTest, PrintsEscapesAsLibprotobuf) {
  RandomMessages random(1);
  for (int i = 0; i < 2000; ++i) {
    v1::Decision d;
    d.set_reason(random.String(/*utf8_only=*/i % 2 == 0));
    ExpectSamePrint(d);
  }
  for (uint32_t cp = 1; cp < 0x30000; ++cp) {  // every code point to U+2FFFF
    if (cp >= 0xd800 && cp < 0xe000) continue;
    std::string s;
    if (cp < 0x80) {
      s = std::string(1, static_cast<char>(cp));
    } else if (cp < 0x800) {
      s = {static_cast<char>(0xc0 | cp >> 6),
           static_cast<char>(0x80 | (cp & 0x3f))};
    } else if (cp < 0x10000) {
      s = {static_cast<char>(0xe0 | cp >> 12),
           static_cast<char>(0x80 | (cp >> 6 & 0x3f)),
           static_cast<char>(0x80 | (cp & 0x3f))};
    } else {
      s = {static_cast<char>(0xf0 | cp >> 18),
           static_cast<char>(0x80 | (cp >> 12 & 0x3f)),
           static_cast<char>(0x80 | (cp >> 6 & 0x3f)),
           static_cast<char>(0x80 | (cp & 0x3f))};
    }
    v1::Endpoint e;
    e.set_address(s);
    ExpectSamePrint(e);
  }
  for (uint32_t cp : {0xe0001u, 0xe0020u, 0xe007fu, 0x1d173u, 0x1d17au}) {
    v1::Endpoint e;  // the tags and music formatting, as surrogate pairs
    e.set_address({static_cast<char>(0xf0 | cp >> 18),
                   static_cast<char>(0x80 | (cp >> 12 & 0x3f)),
                   static_cast<char>(0x80 | (cp >> 6 & 0x3f)),
                   static_cast<char>(0x80 | (cp & 0x3f))});
    ExpectSamePrint(e);
  }
}

TEST(AgentPbjsonTest, PrintsDoublesAsLibprotobuf) {
  RandomMessages random(2);
  for (int i = 0; i < 5000; ++i) {
    v1::ListServersResponse r;
    r.set_probe_healthy_ratio(random.Double());
    ExpectSamePrint(r);
  }
}

TEST(AgentPbjsonTest, PrintsTimestampsAndDurationsAsLibprotobuf) {
  // Including the ones libprotobuf refuses: then pbjson refuses too.
  const std::pair<int64_t, int32_t> kTimes[] = {{0, 0},
                                                {0, 1},
                                                {0, 10},
                                                {0, 1000},
                                                {0, 1000000},
                                                {0, 100000000},
                                                {0, 999999999},
                                                {-1, 0},
                                                {-1, -1},
                                                {1, -1},
                                                {-1, 1},
                                                {0, -1},
                                                {0, -500000000},
                                                {-86400, 0},
                                                {951782400, 0},
                                                {4107542399, 0},
                                                {-62135596800, 0},
                                                {-62135596801, 0},
                                                {253402300799, 0},
                                                {253402300800, 0},
                                                {315576000000, 999999999},
                                                {-315576000000, -999999999},
                                                {315576000001, 0},
                                                {-315576000001, 0},
                                                {0, 1000000000},
                                                {0, -1000000000},
                                                {5, -5},
                                                {1, -999999999},
                                                {INT64_MAX, 0},
                                                {INT64_MIN, 0},
                                                {0, INT32_MIN},
                                                {0, INT32_MAX}};
  for (const auto& [seconds, nanos] : kTimes) {
    v1::EndpointHealth h;
    h.mutable_last_latency()->set_seconds(seconds);
    h.mutable_last_latency()->set_nanos(nanos);
    ExpectSamePrint(h);
    h.Clear();
    h.mutable_last_change()->set_seconds(seconds);
    h.mutable_last_change()->set_nanos(nanos);
    ExpectSamePrint(h);
  }
  RandomMessages random(3);
  for (int i = 0; i < 5000; ++i) {
    v1::EndpointHealth h;
    random.Fill(h.mutable_last_latency());
    random.Fill(h.mutable_last_change());
    ExpectSamePrint(h);
  }
}

TEST(AgentPbjsonTest, PrintsUnknownEnumValuesAsNumbers) {
  v1::Decision d;
  d.set_state(static_cast<v1::DecisionState>(99));
  d.set_assurance(static_cast<v1::Assurance>(-7));
  ExpectSamePrint(d);
  EXPECT_EQ(*PbjsonJson(d), "{\"state\":99,\"assurance\":-7}");
}

TEST(AgentPbjsonTest, PrintsGeneratedMessagesAsLibprotobuf) {
  RandomMessages random(4);
  for (const Descriptor* d : ApiMessages()) {
    for (int i = 0; i < 500; ++i) {
      std::unique_ptr<Message> m(
          google::protobuf::MessageFactory::generated_factory()
              ->GetPrototype(d)
              ->New());
      random.Fill(m.get());
      ExpectSamePrint(*m);
    }
  }
}

TEST(AgentPbjsonTest, ParsesProfilesAsLibprotobuf) {
  const Descriptor* profile = v1::ItspProfile::descriptor();
  for (
      const char* json : {
          R"({})",
          R"({"proxy_server": "sip.itsp.example", "proxy_server_port": 5060})",
          R"({"proxyServer": "sip.itsp.example", "proxyServerPort": "5060"})",
          R"({"proxy_server_transport": "TRANSPORT_TLS", "ip_version": 3})",
          R"({"proxy_server_transport": "2", "ipVersion": 99})",
          R"({"proxy_server_transport": 7, "keep_alive_msg_type": -1})",
          R"({"registration_enabled": false})",
          R"({"registration_enabled": null, "proxy_server": null})",
          R"({"proxy_server_redundancy": "yes", "keep_alive_enable": "F"})",
          R"({"check_primary_fallback_interval": "60s"})",
          R"({"check_primary_fallback_interval": "1.5s"})",
          R"({"check_primary_fallback_interval": "0.000000001s"})",
          R"({"check_primary_fallback_interval": "-0.5s"})",
          R"({"check_primary_fallback_interval": "-315576000000.999999999s"})",
          R"({"check_primary_fallback_interval": "+5s"})",
          R"({"check_primary_fallback_interval": " 5 s"})",
          R"({"check_primary_fallback_interval": "1.s"})",
          R"({"check_primary_fallback_interval": "1.0000000000s"})",
          R"({"check_primary_fallback_interval": "18446744073709551611s"})",
          R"({"check_primary_fallback_interval": {"seconds": 5, "nanos": -3}})",
          R"({"checkSecondaryFallbackInterval": {}})",
          R"({"proxy_server": "a", "proxy_server": "b", "proxyServer": "c"})",
          R"({"check_primary_fallback_interval": "1s",
               "check_primary_fallback_interval": {"nanos": 7}})",
          R"({'proxy_server': 'it\'s "ok"', proxy_server_port: 1,})",
          R"({"proxy_server": "\u00e9\ud83d\ude00\/\'\a\v\u0001x"})",
          R"({"proxy_server": "caf\u00E9", "keep_alive_server": "\t\u2028"})",
          R"({"proxy\u005fserver": "x", "keep\u0041liveServer": "y"})",
          "{\"proxy_server\": \"\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\"}",
          " \t\n\v\f\r{\"proxy_server_port\": 1e3}\n\v ",
          R"({"proxy_server_port": 4294967295, "keep_alive_port": 5.0})",
          R"({"proxy_server_port": 0, "keep_alive_port": -0})",
          R"({"proxy_server_port": "+7", "keep_alive_port": "007"})",
          R"({"proxy_server_port": 4.294967295e9, "keep_alive_port": -0.0})",
          R"({"proxy_server_port": 0x10.0, "keep_alive_port": 0x1e0})",
          R"({"proxy_server_port": 00.5e1})",
      }) {
    SCOPED_TRACE(json);
    EXPECT_TRUE(ExpectSameParse(profile, json));
  }
}

TEST(AgentPbjsonTest, ParsesWatchRequestsAsLibprotobuf) {
  const Descriptor* request = v1::WatchDecisionRequest::descriptor();
  for (
      const char* json : {
          R"({"profile": {"proxy_server": "sip.itsp.example"},
               "agent_id": "dev-1", "last_applied_version": "18446744073709551615",
               "spread_mode": "SPREAD_MODE_DEVICE_ORDER"})",
          R"({"lastAppliedVersion": 18446744073709551615})",
          R"({"last_applied_version": 1e19, "appliedPrimary": {"port": 5060}})",
          R"({"last_applied_version": "00042"})",
          R"({"applied_primary": {"address": "a"}, "applied_primary": {"port": 1}})",
          R"({"profile": {}, "profile": {"ipVersion": "IP_VERSION_V6"}})",
          R"({"applied_secondary": null, "profile": null})",
      }) {
    SCOPED_TRACE(json);
    EXPECT_TRUE(ExpectSameParse(request, json));
  }
}

TEST(AgentPbjsonTest, ParsesListsAsLibprotobuf) {
  const Descriptor* decision = v1::Decision::descriptor();
  for (const char* json : {
           R"({"candidates": [{"port": 1}, {"port": 2},]})",
           R"({"candidates": {"port": 1}})",
           R"({"candidates": [[{"port": 1}], [], [[{"port": 2}]]]})",
           R"({"candidates": [null, {"port": 3}, null]})",
           R"({"candidates": [{"port": 1}], "candidates": [{"port": 2}]})",
           R"({"next_search_time": "2026-12-06T18:00:00.123Z"})",
           R"({"next_search_time": "2026-12-06T18:00:00+01:30"})",
           R"({"next_search_time": "0001-01-01T00:00:00+00:01"})",
           R"({"next_search_time": "9999-12-31T23:59:59.9999999999-23:59"})",
           R"({"next_search_time": "2024-2-29T1:2:3Z"})",
           R"({"next_search_time": "2026-12-06T18:00:00Z\u0000junk"})",
           R"({"generatedAt": {"seconds": "-99999999999999"}})",
       }) {
    SCOPED_TRACE(json);
    EXPECT_TRUE(ExpectSameParse(decision, json));
  }
  const Descriptor* status = v1::ServerStatus::descriptor();
  for (const char* json :
       {R"({"domains": "a"})", R"({"domains": ["a", ["b"]]})",
        R"({"domains": [null, "c"]})"}) {
    SCOPED_TRACE(json);
    EXPECT_TRUE(ExpectSameParse(status, json));
  }
  const Descriptor* servers = v1::ListServersResponse::descriptor();
  for (const std::string& json : std::vector<std::string>{
           R"({"probe_healthy_ratio": 0.5})",
           R"({"probe_healthy_ratio": "NaN"})",
           R"({"probe_healthy_ratio": "-Infinity"})",
           R"({"probe_healthy_ratio": "1e5"})",
           R"({"probe_healthy_ratio": "\t2"})",
           R"({"probe_healthy_ratio": "0x10"})",
           R"({"probe_healthy_ratio": "2\n"})",
           R"({"probe_healthy_ratio": "3\u0000x"})",
           R"({"probe_healthy_ratio": 18446744073709551616})",
           R"({"probe_healthy_ratio": -9223372036854775809})",
           R"({"probe_healthy_ratio": 1e-400})",
           R"({"probe_healthy_ratio": 1e400})",
           R"({"probe_healthy_ratio": "1e400"})",
           R"({"probe_healthy_ratio": 0.)" + std::string(100, '0') + "1}",
           R"({"probe_healthy_ratio": 1)" + std::string(100, '0') + "}",
           R"({"probe_healthy_ratio": 1)" + std::string(400, '0') + "}"}) {
    SCOPED_TRACE(json);
    ExpectSameParse(servers, json);  // some are refused by both
  }
}

TEST(AgentPbjsonTest, RefusesWhatLibprotobufRefuses) {
  const Descriptor* profile = v1::ItspProfile::descriptor();
  for (const char* json : {
           "",
           " ",
           "[]",
           "null",
           "\"x\"",
           "1",
           "{",
           "}",
           "{}}",
           "{} x",
           "{},",
           R"({"proxy_server": "x"} {})",
           R"({"nope": 1})",
           R"({"": 1})",
           R"({"PROXY_SERVER": "x"})",
           R"({$x: 1})",
           R"({"proxy-server": "x"})",
           R"({"proxy_server": 5})",
           R"({"proxy_server": true})",
           R"({"proxy_server": ["x"]})",
           R"({"proxy_server": {}})",
           R"({"proxy_server_port": -1})",
           R"({"proxy_server_port": 4294967296})",
           R"({"proxy_server_port": 1.5})",
           R"({"proxy_server_port": "1.0"})",
           R"({"proxy_server_port": " 1"})",
           R"({"proxy_server_port": "1 "})",
           R"({"proxy_server_port": "-0"})",
           R"({"proxy_server_port": ""})",
           R"({"proxy_server_port": "0x10"})",
           R"({"proxy_server_port": true})",
           R"({"proxy_server_port": 01})",
           R"({"proxy_server_port": -01})",
           R"({"proxy_server_port": 0x10})",
           R"({"proxy_server_port": +1})",
           R"({"proxy_server_port": .5})",
           R"({"proxy_server_port": 1e400})",
           R"({"proxy_server_port": 1-2})",
           R"({"proxy_server_port": -})",
           R"({"proxy_server_port": NaN})",
           R"({"proxy_server_port": "1\u0000"})",
           R"({"proxy_server_redundancy": 1})",
           R"({"proxy_server_redundancy": "on"})",
           R"({"proxy_server_redundancy": "true "})",
           R"({"proxy_server_redundancy": tru})",
           R"({"proxy_server_redundancy": truex})",
           R"({"proxy_server_transport": "TRANSPORT_XYZ"})",
           R"({"proxy_server_transport": "transport_tls"})",
           R"({"proxy_server_transport": "9"})",
           R"({"proxy_server_transport": 1.5})",
           R"({"proxy_server_transport": true})",
           R"({"proxy_server_transport": 2147483648})",
           R"({"check_primary_fallback_interval": 60})",
           R"({"check_primary_fallback_interval": "60"})",
           R"({"check_primary_fallback_interval": "s"})",
           R"({"check_primary_fallback_interval": "-s"})",
           R"({"check_primary_fallback_interval": ".5s"})",
           R"({"check_primary_fallback_interval": "1.5.5s"})",
           R"({"check_primary_fallback_interval": "1.0000000001s"})",
           R"({"check_primary_fallback_interval": "1. 5s"})",
           R"({"check_primary_fallback_interval": "1.+5s"})",
           R"({"check_primary_fallback_interval": "--1s"})",
           R"({"check_primary_fallback_interval": "315576000001s"})",
           R"({"check_primary_fallback_interval": "1S"})",
           R"({"check_primary_fallback_interval": ["1s"]})",
           R"({"check_primary_fallback_interval": {"minutes": 1}})",
           R"({"proxy_server": "x" "keep_alive_port": 1})",
           R"({"proxy_server" "x"})",
           R"({"proxy_server": })",
           R"({,})",
           R"({"proxy_server": "x",,})",
           R"({true: 1})",
           R"({null: 1})",
           R"({1: 1})",
           R"({"proxy_server": "x)",
           R"({"proxy_server": "x\)",
           R"({"proxy_server": "\ud800"})",
           R"({"proxy_server": "\udc00"})",
           R"({"proxy_server": "\ud800\u0041"})",
           R"({"proxy_server": "\ud83d\ude0"})",
           R"({"proxy_server": "\u12"})",
           R"({"proxy_server": "\uzzzz"})",
           R"({"proxy_server": 'x"})",
           "{\"proxy_server\": \"\xff\"}",
           "{\"proxy_server\": \"\xc0\x80\"}",
           "{\"proxy_server\": \"\xed\xa0\x80\"}",
           "{\"proxy_server\": \"\xc3\"}",
           "{\"proxy_server\": \"x\"}\xff",
           "\xef\xbb\xbf{}",
       }) {
    SCOPED_TRACE(json);
    EXPECT_FALSE(ExpectSameParse(profile, json));
  }
}

// Where pbjson differs from libprotobuf on purpose, pinned so that a change
// is seen. protobuf-c keeps strings as C strings: one cannot hold a NUL.
TEST(AgentPbjsonTest, StringsEndAtANul) {
  v1::Decision d;
  d.set_reason(std::string("before\0after", 12));
  EXPECT_EQ(*PbjsonJson(d), "{\"reason\":\"before\"}");
  const Parsed p = PbjsonParse(v1::ItspProfile::descriptor(),
                               R"({"proxy_server": "a\u0000b"})");
  EXPECT_EQ(p.message, nullptr);  // libprotobuf takes it: "a\0b"
  EXPECT_NE(p.error.find("proxy_server"), std::string::npos) << p.error;
}

// libprotobuf refuses a proto3 `optional` field given twice (it is a oneof
// of its own there); the proto2 translation protoc-c sees has no trace of
// that, so pbjson takes the later value as it does for every field.
TEST(AgentPbjsonTest, TakesAnOptionalFieldGivenTwice) {
  const std::string json =
      R"({"registration_enabled": true, "registration_enabled": false})";
  EXPECT_EQ(LibprotobufParse(v1::ItspProfile::descriptor(), json).message,
            nullptr);
  const Parsed p = PbjsonParse(v1::ItspProfile::descriptor(), json);
  ASSERT_NE(p.message, nullptr) << p.error;
  const auto& profile = static_cast<const v1::ItspProfile&>(*p.message);
  EXPECT_TRUE(profile.has_registration_enabled());
  EXPECT_FALSE(profile.registration_enabled());
}

TEST(AgentPbjsonTest, ErrorsNameTheField) {
  const Descriptor* request = v1::WatchDecisionRequest::descriptor();
  const struct {
    const char* json;
    const char* names;
  } kCases[] = {
      {R"({"profile": {"proxy_server_port": 4294967296}})",
       "profile.proxy_server_port"},
      {R"({"profile": {"ip_version": "IPV6"}})", "profile.ip_version"},
      {R"({"profile": {"checkPrimaryFallbackInterval": "1m"}})",
       "profile.check_primary_fallback_interval"},
      {R"({"profile": {"proxy_sever": "x"}})", "proxy_sever"},
      {R"({"agent_id": 7})", "agent_id"},
      {R"({"applied_primary": {"port": "x"}})", "applied_primary.port"},
  };
  for (const auto& c : kCases) {
    const Parsed p = PbjsonParse(request, c.json);
    EXPECT_EQ(p.message, nullptr) << c.json;
    EXPECT_NE(p.error.find(c.names), std::string::npos)
        << c.json << " -> " << p.error;
  }
}

TEST(AgentPbjsonTest, BoundsNesting) {
  // 32 levels of objects and lists are fine, 33 are not (libprotobuf allows
  // 100 objects and any number of lists; the agent keeps its stack small).
  const Descriptor* decision = v1::Decision::descriptor();
  auto nested = [](int lists) {
    return "{\"candidates\":" + std::string(lists, '[') + "{\"port\":1}" +
           std::string(lists, ']') + "}";
  };
  EXPECT_NE(PbjsonParse(decision, nested(30)).message, nullptr);
  EXPECT_EQ(PbjsonParse(decision, nested(31)).message, nullptr);
  EXPECT_NE(PbjsonParse(decision, nested(100000)).error.find("deep"),
            std::string::npos);
}

TEST(AgentPbjsonTest, NeverReadsPastTheEnd) {
  // Every prefix of a valid text, each in a buffer of exactly its size.
  const std::string json =
      R"({"profile":{'proxy_server':"a\u00e9\ud83d\ude00\n",proxyServerPort:5060,)"
      R"("check_primary_fallback_interval":"-1.5s","ip_version":"IP_VERSION_V4",)"
      R"("registration_enabled":true},"last_applied_version":1.5e3 ,)"
      R"("applied_primary":{"address":"x"},"spread_mode":null})";
  ASSERT_TRUE(ExpectSameParse(v1::WatchDecisionRequest::descriptor(), json));
  for (size_t n = 0; n < json.size(); ++n)
    ExpectSameParse(v1::WatchDecisionRequest::descriptor(), json.substr(0, n));
}

// JSON that libprotobuf printed, in both name styles, parses back to the
// same message on both sides.
TEST(AgentPbjsonTest, ParsesGeneratedJsonAsLibprotobuf) {
  google::protobuf::LogSilencer quiet;  // the refused Timestamps complain
  RandomMessages random(5);
  random.utf8_only = true;
  int accepted = 0;
  for (const Descriptor* d : ApiMessages()) {
    for (int i = 0; i < 300; ++i) {
      std::unique_ptr<Message> m(
          google::protobuf::MessageFactory::generated_factory()
              ->GetPrototype(d)
              ->New());
      random.Fill(m.get());
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = i % 2 == 0;
      options.add_whitespace = i % 3 == 0;
      std::string json;
      if (!google::protobuf::util::MessageToJsonString(*m, &json, options).ok())
        continue;  // an out-of-range Timestamp or Duration
      accepted += ExpectSameParse(d, json);
    }
  }
  EXPECT_GT(accepted, 4000);
}

// Valid JSON with random edits: both must still agree, byte by byte.
TEST(AgentPbjsonTest, ParsesMutatedJsonAsLibprotobuf) {
  google::protobuf::LogSilencer quiet;
  static const char* const kEdits[] = {"null",
                                       ",",
                                       ":",
                                       "{",
                                       "}",
                                       "[",
                                       "]",
                                       "\"",
                                       "'",
                                       "\\",
                                       "\\u00e9",
                                       "\\ud83d",
                                       "\\ude00",
                                       "0",
                                       "-",
                                       "1e3",
                                       ".5",
                                       "x",
                                       " ",
                                       "\t",
                                       "true",
                                       "\"yes\"",
                                       "\"1\"",
                                       "\"-1\"",
                                       "\xc3\xa9",
                                       "\xff",
                                       "9999999999",
                                       "s",
                                       "\"IP_VERSION_V6\"",
                                       "\"60s\"",
                                       "\"2026-01-01T00:00:00Z\"",
                                       "{}",
                                       "[]",
                                       "\"NaN\"",
                                       "\"-Infinity\"",
                                       "1.5",
                                       "-0",
                                       "0x10",
                                       "00",
                                       "1e400",
                                       "\"+5\"",
                                       "\" 5\"",
                                       "\"5 \"",
                                       "\"-0\"",
                                       "\"t\"",
                                       "\"No\"",
                                       "\"2\"",
                                       "2147483648",
                                       "-2147483649",
                                       "4294967296",
                                       "18446744073709551616",
                                       "\"-0.5s\"",
                                       "\"1.0000000001s\"",
                                       "\"2026-01-01T00:00:00+01:00\"",
                                       "proxy_server:",
                                       "agentId:",
                                       "\\\"",
                                       "\\/",
                                       "\\x",
                                       "\\u",
                                       "\\uD800",
                                       "\\uDC00",
                                       "\f",
                                       "\v",
                                       "$",
                                       "_",
                                       "'a'",
                                       "\"registrationEnabled\":",
                                       "{\"seconds\":1}",
                                       "[[",
                                       "]]",
                                       ",]",
                                       ",}"};
  RandomMessages random(6);
  random.utf8_only = true;
  for (const Descriptor* d :
       {v1::ItspProfile::descriptor(), v1::WatchDecisionRequest::descriptor(),
        v1::Decision::descriptor()}) {
    for (int i = 0; i < 3000; ++i) {
      std::unique_ptr<Message> m(
          google::protobuf::MessageFactory::generated_factory()
              ->GetPrototype(d)
              ->New());
      random.Fill(m.get());
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = random.Chance(2);
      std::string json;
      if (!google::protobuf::util::MessageToJsonString(*m, &json, options).ok())
        continue;
      for (int edits = 1 + random.Below(3); edits > 0 && !json.empty();
           --edits) {
        const size_t at =
            static_cast<size_t>(random.Below(static_cast<int>(json.size())));
        const std::string piece = kEdits[random.Below(std::size(kEdits))];
        switch (random.Below(3)) {
          case 0:
            json.insert(at, piece);
            break;
          case 1:
            json.erase(at, 1 + random.Below(3));
            break;
          default:
            json.replace(at, 1, piece);
        }
      }
      ExpectSameParse(d, json);
      if (HasFailure()) return;  // the first difference is enough to read
    }
  }
}

}  // namespace
}  // namespace sipresolver
