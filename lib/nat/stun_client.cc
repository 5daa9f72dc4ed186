#include "lib/nat/stun_client.h"

#include <sys/socket.h>

#include <array>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "asio/ip/udp.hpp"
#include "asio/post.hpp"
#include "lib/core/host_port.h"
#include "lib/nat/stun_message.h"

namespace sipresolver::nat {
namespace {

// A Binding response is ~100 bytes; anything larger than this is cut by the
// kernel, then fails to decode (its length field no longer matches) and is
// ignored.
constexpr size_t kReceiveBufferSize = 4096;

std::string EndpointText(const asio::ip::udp::endpoint& e) {
  return ::sipresolver::HostPort(e.address().to_string(), e.port());
}

std::string AttributeList(const std::vector<uint16_t>& types) {
  return absl::StrJoin(types, ", ", [](std::string* out, uint16_t t) {
    absl::StrAppend(out, absl::StrFormat("0x%04X", t));
  });
}

// RFC 8489 6.3.3 and 6.3.4: what a decoded response to our request means.
absl::StatusOr<MappedAddress> Interpret(const std::string& server,
                                        const BindingResponse& r) {
  const std::string from = absl::StrCat("STUN server ", server);
  if (!r.unknown_required.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        from,
        " answered with comprehension-required attributes we do not "
        "understand (",
        AttributeList(r.unknown_required), "): the transaction failed"));
  }
  if (r.success) {
    const StunAddress* mapped = r.mapped();
    if (mapped == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(from,
                       " answered without XOR-MAPPED-ADDRESS or "
                       "MAPPED-ADDRESS"));
    }
    return MappedAddress{mapped->address, mapped->port,
                         MappedAddress::Method::kStun};
  }
  if (!r.error_code.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(from, " sent an error response without ERROR-CODE"));
  }
  const int code = *r.error_code;
  std::string message = absl::StrCat(from, " answered ", code, " (",
                                     absl::CHexEscape(r.error_reason), ")");
  if (!r.unknown_attributes.empty()) {
    absl::StrAppend(&message, "; unknown attributes: ",
                    AttributeList(r.unknown_attributes));
  }
  if (code == 401) return absl::UnauthenticatedError(message);
  if (code == 403) return absl::PermissionDeniedError(message);
  if (code >= 500) return absl::UnavailableError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

// A connected UDP socket to one server from one local binding, and the
// queries in flight on it. Pending Asio handlers hold it by shared_ptr;
// Close() marks it closed, so a late completion does nothing (as in
// sip/flow.cc). `owner` is valid while the channel is open.
struct StunClient::Channel : std::enable_shared_from_this<Channel> {
  struct Pending {
    Callback done;
    std::unique_ptr<RetransmitTimer> timer;
    int undecodable = 0;  // Answers with our id that did not decode.
    std::string last_error;
  };

  Channel(asio::io_context& io, StunClient* client, std::string channel_key,
          std::string server_text)
      : socket(io),
        owner(client),
        key(std::move(channel_key)),
        server(std::move(server_text)) {}

  void Close() {
    closed = true;
    asio::error_code ignored;
    socket.close(ignored);
    pending.clear();  // Timers and callbacks, none run.
  }

  void Send(const std::shared_ptr<const std::string>& request) {
    ++owner->stats_.requests_sent;
    socket.async_send(
        asio::buffer(*request), [self = shared_from_this(), request](
                                    const asio::error_code& ec, size_t) {
          if (self->closed || !ec || ec == asio::error::operation_aborted) {
            return;
          }
          self->FailAll(self->NetworkError("sending to", ec));
        });
  }

  static void Receive(const std::shared_ptr<Channel>& self) {
    self->socket.async_receive(
        asio::buffer(self->buffer),
        [self](const asio::error_code& ec, size_t n) {
          if (self->closed) return;
          if (ec)
            return self->FailAll(self->NetworkError("receiving from", ec));
          self->OnDatagram(absl::string_view(self->buffer.data(), n));
          if (!self->closed) Receive(self);
        });
  }

  absl::Status NetworkError(absl::string_view what,
                            const asio::error_code& ec) {
    if (ec == asio::error::connection_refused) {
      return absl::UnavailableError(absl::StrCat(
          "STUN server ", server, " is unreachable: ", ec.message(),
          " (ICMP port unreachable: nothing listens there)"));
    }
    return absl::UnavailableError(
        absl::StrCat(what, " STUN server ", server, " failed: ", ec.message()));
  }

  void OnDatagram(absl::string_view datagram) {
    std::optional<StunTransactionId> id = PeekTransactionId(datagram);
    auto it = id.has_value() ? pending.find(*id) : pending.end();
    if (it == pending.end()) {  // Stale, stray or not STUN.
      ++owner->stats_.datagrams_ignored;
      return;
    }
    absl::StatusOr<BindingResponse> response = DecodeBindingResponse(datagram);
    if (!response.ok()) {
      // Possibly corrupted or forged: a good answer may still come.
      ++owner->stats_.datagrams_ignored;
      ++it->second.undecodable;
      it->second.last_error = std::string(response.status().message());
      return;
    }
    ++owner->stats_.responses_matched;
    Complete(*id, Interpret(server, *response));
  }

  void TimedOut(const StunTransactionId& id) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    std::string message =
        absl::StrCat("STUN server ", server,
                     " did not answer: ", DescribeSchedule(owner->options_));
    if (it->second.undecodable > 0) {
      absl::StrAppend(
          &message, "; ignored ", it->second.undecodable,
          " undecodable answer(s), the last: ", it->second.last_error);
    }
    Complete(id, absl::DeadlineExceededError(message));
  }

  // Ends one query: bookkeeping first, the callback last (it may destroy
  // the client, or start a query that reuses or reopens a channel).
  void Complete(StunTransactionId id, absl::StatusOr<MappedAddress> result) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    std::shared_ptr<Channel> self = shared_from_this();
    Callback done = std::move(it->second.done);
    pending.erase(it);  // Safe inside the timer's own give_up: see there.
    StunClient* client = owner;
    ++(result.ok() ? client->stats_.succeeded : client->stats_.failed);
    if (pending.empty()) {
      Close();
      client->Forget(key);
    }
    done(std::move(result));
  }

  // The socket failed: every query on it fails the same way.
  void FailAll(const absl::Status& status) {
    std::shared_ptr<Channel> self = shared_from_this();
    std::vector<Callback> dones;
    for (auto& [id, p] : pending) dones.push_back(std::move(p.done));
    StunClient* client = owner;
    client->stats_.failed += dones.size();
    std::weak_ptr<bool> alive = client->alive_;
    Close();
    client->Forget(key);
    for (Callback& done : dones) {
      if (alive.expired()) return;  // A callback destroyed the client.
      done(status);
    }
  }

  asio::ip::udp::socket socket;
  StunClient* owner;
  const std::string key;
  const std::string server;  // "127.0.0.1:3478", for messages.
  bool closed = false;
  std::map<StunTransactionId, Pending> pending;
  std::array<char, kReceiveBufferSize> buffer;  // One receive at a time.
};

absl::StatusOr<std::unique_ptr<StunClient>> StunClient::Create(
    asio::io_context& io, TimerFactory& timers, Random& random,
    StunOptions options) {
  if (absl::Status s = ValidateStunOptions(options); !s.ok()) return s;
  return std::unique_ptr<StunClient>(
      new StunClient(io, timers, random, std::move(options)));
}

StunClient::StunClient(asio::io_context& io, TimerFactory& timers,
                       Random& random, StunOptions options)
    : io_(io), timers_(timers), random_(random), options_(std::move(options)) {}

StunClient::~StunClient() {
  alive_.reset();
  std::map<std::string, std::shared_ptr<Channel>> channels;
  channels.swap(channels_);
  for (auto& [key, channel] : channels) channel->Close();
}

size_t StunClient::in_flight() const {
  size_t n = 0;
  for (const auto& [key, channel] : channels_) n += channel->pending.size();
  return n;
}

void StunClient::PostFailure(Callback done, absl::Status status) {
  ++stats_.failed;
  // Shared, because Asio's post wants a copyable handler.
  auto shared = std::make_shared<Callback>(std::move(done));
  asio::post(io_, [alive = std::weak_ptr<bool>(alive_), shared,
                   status = std::move(status)] {
    if (!alive.expired()) (*shared)(status);
  });
}

void StunClient::Forget(const std::string& key) { channels_.erase(key); }

absl::StatusOr<std::shared_ptr<StunClient::Channel>> StunClient::ChannelFor(
    const std::string& server_address, uint16_t port,
    const std::optional<LocalBinding>& from) {
  asio::error_code ec;
  const asio::ip::address server_ip =
      asio::ip::make_address(server_address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("STUN server \"", absl::CHexEscape(server_address),
                     "\" is not an IP address"));
  }
  if (port == 0) return absl::InvalidArgumentError("STUN server port is 0");
  const asio::ip::udp::endpoint remote(server_ip, port);
  asio::ip::udp::endpoint local(
      server_ip.is_v4() ? asio::ip::address(asio::ip::address_v4::any())
                        : asio::ip::address(asio::ip::address_v6::any()),
      0);
  if (from.has_value()) {
    if (!from->address.empty()) {
      const asio::ip::address local_ip =
          asio::ip::make_address(from->address, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("local address \"", absl::CHexEscape(from->address),
                         "\" is not an IP address"));
      }
      if (local_ip.is_v4() != server_ip.is_v4()) {
        return absl::InvalidArgumentError(
            absl::StrCat("local address ", from->address, " and STUN server ",
                         server_address, " are of different families"));
      }
      local.address(local_ip);
    }
    local.port(from->port);
  }
  const bool reuse = from.has_value() && from->reuse_port;
  const std::string key =
      absl::StrCat(EndpointText(remote), " from ", EndpointText(local),
                   reuse ? " shared" : "");
  if (auto it = channels_.find(key); it != channels_.end()) return it->second;

  auto channel =
      std::make_shared<Channel>(io_, this, key, EndpointText(remote));
  asio::ip::udp::socket& socket = channel->socket;
  socket.open(remote.protocol(), ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot open a UDP socket: ", ec.message()));
  }
  if (reuse) {
    socket.set_option(asio::socket_base::reuse_address(true), ec);
    using ReusePort =
        asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    if (!ec) socket.set_option(ReusePort(true), ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot set SO_REUSEPORT: ", ec.message()));
    }
  }
  if (from.has_value()) {
    socket.bind(local, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot bind the STUN socket to ", EndpointText(local),
                       ": ", ec.message()));
    }
  }
  socket.connect(remote, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach STUN server ", EndpointText(remote), ": ", ec.message()));
  }
  channels_.emplace(key, channel);
  Channel::Receive(channel);
  return channel;
}

void StunClient::Query(const std::string& server_address, uint16_t port,
                       const std::optional<LocalBinding>& from, Callback done) {
  ++stats_.queries;
  absl::StatusOr<std::shared_ptr<Channel>> found =
      ChannelFor(server_address, port, from);
  if (!found.ok()) return PostFailure(std::move(done), found.status());
  Channel* channel = found->get();

  StunTransactionId id;
  const uint64_t high =
      random_.UniformInclusive(std::numeric_limits<uint64_t>::max());
  const uint64_t low =
      random_.UniformInclusive(std::numeric_limits<uint32_t>::max());
  for (int i = 0; i < 8; ++i)
    id[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i)
    id[8 + i] = static_cast<uint8_t>(low >> (24 - 8 * i));
  // A collision with a query in flight on this socket (a scripted Random in
  // tests; 2^-96 otherwise): count up until the id is free.
  while (channel->pending.count(id) > 0) {
    for (int i = 11; i >= 0 && ++id[i] == 0; --i) {
    }
  }

  absl::StatusOr<std::string> request =
      EncodeBindingRequest(id, {options_.software, options_.fingerprint});
  if (!request.ok()) {  // Options were validated; cannot happen.
    if (channel->pending.empty()) {
      channel->Close();
      Forget(channel->key);
    }
    return PostFailure(std::move(done), request.status());
  }
  auto bytes = std::make_shared<const std::string>(*std::move(request));
  Channel::Pending& pending = channel->pending[id];
  pending.done = std::move(done);
  // The timer lives in the channel's pending entry, so its callbacks never
  // outlive the channel.
  pending.timer = std::make_unique<RetransmitTimer>(
      timers_, options_,
      [channel, bytes](int /*attempt*/) { channel->Send(bytes); },
      [channel, id] { channel->TimedOut(id); });
  pending.timer->Start();
}

}  // namespace sipresolver::nat
