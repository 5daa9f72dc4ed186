#include "client/nat_keeper.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sipresolver::client {
namespace {

// Bounds on how often a keep-alive server's name is looked up again.
constexpr absl::Duration kMinRenewal = absl::Seconds(5);
constexpr absl::Duration kMaxRenewal = absl::Hours(1);

}  // namespace

NatKeeper::NatKeeper(NatOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<NatKeeper>> NatKeeper::Create(
    NatOptions options) {
  std::unique_ptr<NatKeeper> keeper(new NatKeeper(std::move(options)));
  auto stun = nat::StunClient::Create(keeper->loop_.io_context(), keeper->loop_,
                                      keeper->random_, keeper->options_.stun);
  if (!stun.ok()) return stun.status();
  keeper->stun_ = *std::move(stun);
  auto transport = dns::AresTransport::Create(
      keeper->loop_.io_context(),
      dns::AresOptions{keeper->options_.dns_servers});
  if (!transport.ok()) return transport.status();
  keeper->transport_ = *std::move(transport);
  keeper->dns_ = std::make_unique<dns::CachingResolver>(
      *keeper->transport_, keeper->clock_, dns::CacheLimits{}, nullptr);
  keeper->loop_.Start();
  return keeper;
}

NatKeeper::~NatKeeper() {
  loop_.RunSync([this] {
    next_.reset();
    renew_.reset();
    stun_.reset();  // Drops queries in flight without their callbacks.
    dns_.reset();
    transport_.reset();  // Likewise.
  });
  loop_.Stop();
}

void NatKeeper::SetTarget(const std::string& host, uint16_t port) {
  loop_.Post([this, host, port] {
    const std::optional<std::string> literal = nat::CanonicalIp(host);
    const std::string name = host.empty() || literal ? "" : host;
    if (name == target_host_ && port == target_port_ &&
        (!name.empty() || literal.value_or("") == target_address_)) {
      return;  // Same target (a name keeps its own renewal going).
    }
    target_host_ = name;
    target_port_ = port;
    ++host_generation_;
    renew_.reset();
    Aim("");  // Nothing goes to the previous target meanwhile.
    if (!name.empty()) return Resolve(host_generation_);
    Aim(literal.value_or(""));
  });
}

// A name's first address; looked up again when its TTL is up, or after the
// STUN interval when it did not resolve (the caching resolver serves a
// stale answer for a while when DNS fails).
void NatKeeper::Resolve(uint64_t host_generation) {
  dns_->Query(target_host_, dns::RecordType::kA,
              [this, host_generation](const dns::QueryResult& r) {
                if (host_generation != host_generation_)
                  return;  // Target changed.
                absl::Duration next = options_.interval;
                if (r.status.ok() && !r.answer->addresses.empty()) {
                  Aim(r.answer->addresses.front().address);
                  next = std::clamp(r.remaining_ttl, kMinRenewal, kMaxRenewal);
                } else {
                  Aim("");
                  if (options_.on_event) {
                    options_.on_event(absl::StrCat(
                        "STUN: cannot resolve keep-alive server ", target_host_,
                        " (", r.status.ok() ? "no address" : r.status.message(),
                        "); no keep-alives until it resolves"));
                  }
                }
                renew_ = loop_.After(next, [this, host_generation] {
                  if (host_generation == host_generation_)
                    Resolve(host_generation);
                });
              });
}

void NatKeeper::Aim(const std::string& address) {
  if (address == target_address_) return;
  target_address_ = address;
  ++generation_;
  next_.reset();
  if (!address.empty()) Query(generation_);
}

void NatKeeper::Query(uint64_t generation) {
  std::optional<nat::LocalBinding> from;
  if (options_.local_port != 0)
    from = nat::LocalBinding{"", options_.local_port, true};
  stun_->Query(
      target_address_, target_port_, from,
      [this, generation](absl::StatusOr<nat::MappedAddress> result) {
        if (generation != generation_) return;  // Target changed.
        if (result.ok()) {
          Learned(*result);
        } else if (options_.on_event) {
          options_.on_event(absl::StrCat("STUN: ", result.status().message()));
        }
        next_ = loop_.After(options_.interval, [this, generation] {
          if (generation == generation_) Query(generation);
        });
      });
}

absl::Status NatKeeper::ObserveRegisterResponse(absl::string_view response) {
  absl::StatusOr<nat::MappedAddress> mapped =
      nat::MappedAddressFromResponse(response);
  if (!mapped.ok()) return mapped.status();
  Learned(*mapped);
  return absl::OkStatus();
}

void NatKeeper::Learned(const nat::MappedAddress& mapped) {
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    changed = !current_ || current_->address != mapped.address ||
              current_->port != mapped.port;
    const bool method_changed = current_ && current_->method != mapped.method;
    current_ = mapped;
    if (!changed && !method_changed) return;  // Same mapping, same method.
  }
  if (options_.on_mapping) options_.on_mapping(mapped, changed);
}

std::optional<nat::MappedAddress> NatKeeper::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace sipresolver::client
