#include "client/nat_keeper.h"

#include <netdb.h>

#include "absl/strings/str_cat.h"

namespace sipresolver::client {
namespace {

// The first IPv4 address of `host`, or the literal itself.
std::optional<std::string> ResolveHost(const std::string& host) {
  if (auto ip = nat::CanonicalIp(host)) return ip;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0 || result == nullptr) {
    return std::nullopt;
  }
  char text[INET6_ADDRSTRLEN] = {};
  getnameinfo(result->ai_addr, result->ai_addrlen, text, sizeof(text), nullptr, 0,
              NI_NUMERICHOST);
  freeaddrinfo(result);
  return std::string(text);
}

}  // namespace

NatKeeper::NatKeeper(NatOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<NatKeeper>> NatKeeper::Create(NatOptions options) {
  std::unique_ptr<NatKeeper> keeper(new NatKeeper(std::move(options)));
  auto stun = nat::StunClient::Create(keeper->loop_.io_context(), keeper->loop_,
                                      keeper->random_, keeper->options_.stun);
  if (!stun.ok()) return stun.status();
  keeper->stun_ = *std::move(stun);
  keeper->loop_.Start();
  return keeper;
}

NatKeeper::~NatKeeper() {
  loop_.RunSync([this] {
    next_.reset();
    stun_.reset();  // Drops queries in flight without their callbacks.
  });
  loop_.Stop();
}

void NatKeeper::SetTarget(const std::string& host, uint16_t port) {
  loop_.Post([this, host, port] {
    std::string address;
    if (!host.empty()) {
      auto resolved = ResolveHost(host);
      if (!resolved) {
        if (options_.on_event) options_.on_event(absl::StrCat("STUN: cannot resolve ", host));
        return;
      }
      address = *resolved;
    }
    if (address == target_address_ && port == target_port_) return;
    target_address_ = address;
    target_port_ = port;
    ++generation_;
    next_.reset();
    if (!address.empty()) Query(generation_);
  });
}

void NatKeeper::Query(uint64_t generation) {
  std::optional<nat::LocalBinding> from;
  if (options_.local_port != 0) from = nat::LocalBinding{"", options_.local_port, true};
  stun_->Query(target_address_, target_port_, from,
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
  absl::StatusOr<nat::MappedAddress> mapped = nat::MappedAddressFromResponse(response);
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
