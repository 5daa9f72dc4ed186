#include "server/dns_face/face_records.h"

#include <arpa/inet.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "lib/dns/domain_name.h"

namespace sipresolver::server::dns_face {

struct FaceRecords::Published {
  struct Server {
    std::string address;
    uint32_t port = 0;
    std::string label;
  };
  std::vector<Server> servers;  // Ranked.
};

namespace {

bool Confirmed(const v1::Decision& d) {
  return d.state() == v1::DECISION_STATE_ACTIVE &&
         (d.assurance() == v1::ASSURANCE_PROBES ||
          d.assurance() == v1::ASSURANCE_DEVICE_REPORTS);
}

std::string AddressType(absl::string_view address) {
  return absl::StrContains(address, ':') ? "AAAA" : "A";
}

}  // namespace

std::vector<const v1::Candidate*> RankForDns(const v1::Decision& decision) {
  std::vector<const v1::Candidate*> ranked;
  absl::flat_hash_set<std::pair<std::string, uint32_t>> seen;
  auto add = [&](const v1::Candidate& c) {
    if (c.address().empty() || !seen.emplace(c.address(), c.port()).second) {
      return;
    }
    ranked.push_back(&c);
  };
  if (Confirmed(decision)) {
    add(decision.primary());
    if (decision.has_secondary()) add(decision.secondary());
    for (const v1::Candidate& c : decision.candidates()) {
      if (c.health().state() == v1::HEALTH_STATE_HEALTHY) add(c);
    }
  }
  for (const v1::Candidate& c : decision.candidates()) add(c);
  return ranked;
}

std::string TargetLabel(absl::string_view address) {
  const std::optional<std::string> ip = dns::ParseIpLiteral(address);
  if (!ip) return "";
  if (!absl::StrContains(*ip, ':')) {
    return absl::StrCat("v4-", absl::StrReplaceAll(*ip, {{".", "-"}}));
  }
  in6_addr bytes{};
  if (inet_pton(AF_INET6, ip->c_str(), &bytes) != 1) return "";
  std::string label = "v6-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes.s6_addr) {
    label += kHex[b >> 4];
    label += kHex[b & 0xf];
  }
  return label;
}

FaceRecords::FaceRecords(FaceConfig config) : config_(std::move(config)) {
  for (const FaceZone& zone : config_.zones) {
    names_.emplace_back(zone.names.size());
  }
}

std::shared_ptr<const FaceRecords::Published> FaceRecords::Publish(
    const v1::Decision& decision) {
  auto published = std::make_shared<Published>();
  for (const v1::Candidate* c : RankForDns(decision)) {
    std::string label = TargetLabel(c->address());
    if (label.empty() || c->port() == 0 || c->port() > 65535) continue;
    published->servers.push_back({c->address(), c->port(), std::move(label)});
  }
  if (published->servers.empty()) return nullptr;
  return published;
}

void FaceRecords::SetDecision(size_t zone, size_t name, v1::Decision decision) {
  std::shared_ptr<const Published> published = Publish(decision);
  absl::MutexLock lock(&mu_);
  Name& n = names_[zone][name];
  // Fail static: a decision without servers keeps the last ones published.
  if (published == nullptr && n.published != nullptr) return;
  n.decision = std::move(decision);
  n.published = std::move(published);
}

void FaceRecords::SetHealth(absl::string_view address, uint32_t port,
                            v1::Transport transport, v1::HealthState state) {
  absl::MutexLock lock(&mu_);
  for (size_t z = 0; z < names_.size(); ++z) {
    for (size_t i = 0; i < names_[z].size(); ++i) {
      v1::Transport own =
          config_.zones[z].names[i].profile.proxy_server_transport();
      if (own == v1::TRANSPORT_UNSPECIFIED) own = v1::TRANSPORT_UDP;
      Name& n = names_[z][i];
      if (own != transport || n.published == nullptr) continue;
      bool changed = false;
      for (v1::Candidate& c : *n.decision.mutable_candidates()) {
        if (c.address() == address && c.port() == port &&
            c.health().state() != state) {
          c.mutable_health()->set_state(state);
          changed = true;
        }
      }
      if (changed) n.published = Publish(n.decision);
    }
  }
}

absl::StatusOr<std::vector<Record>> FaceRecords::Lookup(
    absl::string_view qname, absl::string_view qtype) const {
  std::string name = absl::AsciiStrToLower(qname);
  if (!absl::EndsWith(name, ".")) name += '.';
  absl::StatusOr<std::vector<Record>> all;
  {
    absl::ReaderMutexLock lock(&mu_);
    all = RecordsOf(name);
  }
  if (!all.ok()) return all.status();
  const std::string type = absl::AsciiStrToUpper(qtype);
  std::vector<Record> out;
  for (Record& r : *all) {
    if (type == "ANY" ? true : r.qtype == type) out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<std::vector<Record>> FaceRecords::RecordsOf(
    const std::string& qname) const {
  for (size_t z = 0; z < config_.zones.size(); ++z) {
    const FaceZone& zone = config_.zones[z];
    if (qname != zone.apex && !absl::EndsWith(qname, "." + zone.apex)) {
      continue;
    }
    const uint32_t ttl = zone.ttl_seconds;
    std::vector<Record> records;
    if (qname == zone.apex) {
      records.push_back({qname, "SOA", zone.soa, ttl});
      for (const std::string& ns : zone.nameservers) {
        records.push_back({qname, "NS", ns, ttl});
      }
      return records;
    }
    bool exists = false;
    for (size_t n = 0; n < zone.names.size(); ++n) {
      const FaceName& face = zone.names[n];
      const Published* servers = names_[z][n].published.get();
      const bool under = absl::EndsWith(qname, "." + face.fqdn);
      if (qname == face.fqdn && face.publish_address) {
        if (servers == nullptr) {
          return absl::UnavailableError(
              absl::StrCat(face.fqdn, ": no servers known yet"));
        }
        // One record per address: servers on other ports of one host
        // are one address to a phone that resolves A.
        absl::flat_hash_set<absl::string_view> seen;
        for (const auto& s : servers->servers) {
          if (!seen.insert(s.address).second) continue;
          records.push_back({qname, AddressType(s.address), s.address, ttl});
        }
        return records;
      }
      if (face.publish_srv && qname == face.service) {
        if (servers == nullptr) {
          return absl::UnavailableError(
              absl::StrCat(face.fqdn, ": no servers known yet"));
        }
        uint32_t priority = 0;
        for (const auto& s : servers->servers) {
          priority += 10;
          records.push_back({qname, "SRV",
                             absl::StrCat(priority, " 0 ", s.port, " ", s.label,
                                          ".", face.fqdn),
                             ttl});
        }
        return records;
      }
      if (face.publish_srv && under && servers != nullptr) {
        const absl::string_view label = absl::string_view(qname).substr(
            0, qname.size() - face.fqdn.size() - 1);
        for (const auto& s : servers->servers) {
          if (s.label == label) {
            return std::vector<Record>{
                {qname, AddressType(s.address), s.address, ttl}};
          }
        }
      }
      // Names between a published one and the zone, or between the SRV
      // name and the name ("_udp.<name>"), exist without records.
      exists = exists || qname == face.fqdn ||
               absl::EndsWith(face.fqdn, "." + qname) ||
               (face.publish_srv && absl::EndsWith(face.service, "." + qname));
    }
    if (!exists) break;
    records.push_back({qname, "ENT", "", ttl});
    return records;
  }
  return absl::NotFoundError(absl::StrCat(qname, " does not exist"));
}

}  // namespace sipresolver::server::dns_face
