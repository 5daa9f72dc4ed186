#include "server/dns_face/remote_backend.h"

#include "absl/strings/ascii.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace sipresolver::server::dns_face {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

std::string Reply(Value result) {
  Struct reply;
  (*reply.mutable_fields())["result"] = std::move(result);
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(reply, &out).ok()) {
    return R"({"result":false})";
  }
  return out;
}

Value Bool(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}

std::string Text(const Struct& s, const std::string& key) {
  const auto it = s.fields().find(key);
  if (it == s.fields().end() || !it->second.has_string_value() ||
      it->second.string_value().size() > 512) {
    return "";
  }
  return it->second.string_value();
}

void Put(Struct& s, const std::string& key, const std::string& text) {
  (*s.mutable_fields())[key].set_string_value(text);
}

void Put(Struct& s, const std::string& key, double number) {
  (*s.mutable_fields())[key].set_number_value(number);
}

Value DomainInfo(const FaceZone& zone, size_t index) {
  Value v;
  Struct& info = *v.mutable_struct_value();
  Put(info, "id", static_cast<double>(index + 1));
  Put(info, "zone", zone.apex);
  Put(info, "kind", "native");
  Put(info, "serial", 1);
  return v;
}

}  // namespace

std::string RemoteBackend::Handle(absl::string_view line) const {
  Struct request;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(line), &request,
                                                   options)
           .ok()) {
    return Reply(Bool(false));
  }
  const std::string method = Text(request, "method");
  const auto params_it = request.fields().find("parameters");
  const Struct empty;
  const Struct& params = params_it != request.fields().end() &&
                                 params_it->second.has_struct_value()
                             ? params_it->second.struct_value()
                             : empty;
  const auto& zones = records_.config().zones;

  if (method == "initialize") return Reply(Bool(true));
  if (method == "getAllDomains") {
    Value list;
    for (size_t i = 0; i < zones.size(); ++i) {
      *list.mutable_list_value()->add_values() = DomainInfo(zones[i], i);
    }
    return Reply(std::move(list));
  }
  if (method == "getDomainInfo") {
    std::string name = absl::AsciiStrToLower(Text(params, "name"));
    if (!name.empty() && name.back() != '.') name += '.';
    for (size_t i = 0; i < zones.size(); ++i) {
      if (zones[i].apex == name) return Reply(DomainInfo(zones[i], i));
    }
    return Reply(Bool(false));
  }
  if (method != "lookup") return Reply(Bool(false));

  const std::string qname = Text(params, "qname");
  const std::string qtype = Text(params, "qtype");
  if (qname.empty() || qtype.empty()) return Reply(Bool(false));
  auto records = records_.Lookup(qname, qtype);
  auto outcome = [&](LookupOutcome o) {
    if (on_lookup_) on_lookup_(o);
  };
  if (absl::IsUnavailable(records.status())) {
    outcome(LookupOutcome::kUnavailable);
    Struct reply;  // No "result": PowerDNS answers SERVFAIL.
    Put(reply, "error", std::string(records.status().message()));
    std::string out;
    if (!google::protobuf::util::MessageToJsonString(reply, &out).ok()) {
      return "{}";
    }
    return out;
  }
  if (!records.ok()) {
    outcome(LookupOutcome::kNoSuchName);
    return Reply(Bool(false));
  }
  if (records->empty()) {
    outcome(LookupOutcome::kNoData);
    return Reply(Bool(false));
  }
  outcome(LookupOutcome::kAnswered);
  Value list;
  for (const Record& r : *records) {
    Struct& out =
        *list.mutable_list_value()->add_values()->mutable_struct_value();
    Put(out, "qtype", r.qtype);
    Put(out, "qname", r.qname);
    Put(out, "content", r.content);
    Put(out, "ttl", static_cast<double>(r.ttl));
  }
  return Reply(std::move(list));
}

}  // namespace sipresolver::server::dns_face
