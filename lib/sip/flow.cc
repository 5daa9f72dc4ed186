#include "lib/sip/flow.h"

#include <array>
#include <deque>

#include "absl/strings/str_cat.h"
#include "asio/ip/tcp.hpp"
#include "asio/ip/udp.hpp"
#include "asio/post.hpp"
#include "asio/write.hpp"
#include "lib/sip/message.h"

namespace sipresolver::sip {
namespace {

constexpr size_t kMaxMessageBytes = 64 * 1024;

absl::Status NetworkError(absl::string_view what, const asio::error_code& ec) {
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

std::string HostText(const asio::ip::address& a) {
  return a.is_v6() ? absl::StrCat("[", a.to_string(), "]") : a.to_string();
}

// The socket and handlers live in a shared State that pending Asio handlers
// keep alive; Flow's destructor closes it and drops the handlers, so a late
// completion finds `closed` and does nothing.
template <typename Socket>
struct State {
  explicit State(asio::io_context& io, Flow::Handlers h)
      : socket(io), handlers(std::move(h)) {}
  void Fail(absl::Status error) {
    if (closed) return;
    closed = true;
    asio::error_code ignored;
    socket.close(ignored);
    if (handlers.on_error) handlers.on_error(std::move(error));
  }
  void Close() {
    closed = true;
    asio::error_code ignored;
    socket.close(ignored);
    handlers = {};
  }
  Socket socket;
  Flow::Handlers handlers;
  bool closed = false;
};

class UdpFlow : public Flow {
 public:
  using UdpState = State<asio::ip::udp::socket>;

  UdpFlow(asio::io_context& io, Handlers handlers)
      : state_(std::make_shared<UdpState>(io, std::move(handlers))) {}
  ~UdpFlow() override { state_->Close(); }

  absl::Status Connect(asio::io_context& io,
                       const asio::ip::udp::endpoint& to) {
    asio::error_code ec;
    state_->socket.open(to.protocol(), ec);
    if (!ec) state_->socket.connect(to, ec);
    if (ec) return NetworkError("UDP connect", ec);
    local_ = state_->socket.local_endpoint(ec);
    asio::post(io, [s = state_] {
      if (!s->closed && s->handlers.on_connected) s->handlers.on_connected();
    });
    Receive(state_);
    return absl::OkStatus();
  }

  void Send(std::string message) override {
    auto buffer = std::make_shared<std::string>(std::move(message));
    state_->socket.async_send(
        asio::buffer(*buffer),
        [s = state_, buffer](const asio::error_code& ec, size_t) {
          if (ec && ec != asio::error::operation_aborted)
            s->Fail(NetworkError("UDP send", ec));
        });
  }
  bool reliable() const override { return false; }
  std::string local_host() const override { return HostText(local_.address()); }
  uint16_t local_port() const override { return local_.port(); }

 private:
  static void Receive(std::shared_ptr<UdpState> s) {
    auto buffer = std::make_shared<std::string>(kMaxMessageBytes, '\0');
    s->socket.async_receive(asio::buffer(*buffer),
                            [s, buffer](const asio::error_code& ec, size_t n) {
                              if (s->closed) return;
                              if (ec)
                                return s->Fail(NetworkError("UDP receive", ec));
                              buffer->resize(n);
                              if (s->handlers.on_message)
                                s->handlers.on_message(std::move(*buffer));
                              if (!s->closed) Receive(s);
                            });
  }

  std::shared_ptr<UdpState> state_;
  asio::ip::udp::endpoint local_;
};

class TcpFlow : public Flow {
 public:
  struct TcpState : State<asio::ip::tcp::socket> {
    using State::State;
    bool connected = false;
    bool writing = false;
    std::deque<std::string> outbox;
    std::string inbox;
    asio::ip::tcp::endpoint local;
  };

  TcpFlow(asio::io_context& io, Handlers handlers)
      : state_(std::make_shared<TcpState>(io, std::move(handlers))) {}
  ~TcpFlow() override { state_->Close(); }

  void Connect(const asio::ip::tcp::endpoint& to) {
    state_->socket.async_connect(to, [s = state_](const asio::error_code& ec) {
      if (s->closed) return;
      if (ec) return s->Fail(NetworkError("TCP connect", ec));
      asio::error_code ignored;
      s->local = s->socket.local_endpoint(ignored);
      s->connected = true;
      Read(s);
      Write(s);  // Whatever was sent before the connection was up.
      if (s->handlers.on_connected) s->handlers.on_connected();
    });
  }

  void Send(std::string message) override {
    state_->outbox.push_back(std::move(message));
    if (state_->connected) Write(state_);
  }
  bool reliable() const override { return true; }
  std::string local_host() const override {
    return HostText(state_->local.address());
  }
  uint16_t local_port() const override { return state_->local.port(); }

 private:
  // One write in flight; the rest wait in the outbox.
  static void Write(std::shared_ptr<TcpState> s) {
    if (s->writing || s->outbox.empty()) return;
    s->writing = true;
    asio::async_write(s->socket, asio::buffer(s->outbox.front()),
                      [s](const asio::error_code& ec, size_t) {
                        s->writing = false;
                        if (s->closed) return;
                        if (ec) return s->Fail(NetworkError("TCP send", ec));
                        s->outbox.pop_front();
                        Write(s);
                      });
  }

  static void Read(std::shared_ptr<TcpState> s) {
    auto chunk = std::make_shared<std::array<char, 4096>>();
    s->socket.async_read_some(
        asio::buffer(*chunk), [s, chunk](const asio::error_code& ec, size_t n) {
          if (s->closed) return;
          if (ec) return s->Fail(NetworkError("TCP receive", ec));
          s->inbox.append(chunk->data(), n);
          while (!s->closed) {
            absl::StatusOr<size_t> length = FramedMessageLength(s->inbox);
            if (!length.ok())
              return s->Fail(absl::DataLossError(length.status().message()));
            if (*length == 0) break;
            std::string message = s->inbox.substr(0, *length);
            s->inbox.erase(0, *length);
            if (s->handlers.on_message)
              s->handlers.on_message(std::move(message));
          }
          if (!s->closed) Read(s);
        });
  }

  std::shared_ptr<TcpState> state_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Flow>> Flow::Open(asio::io_context& io,
                                                 const Endpoint& endpoint,
                                                 Handlers handlers) {
  asio::error_code ec;
  const asio::ip::address address =
      asio::ip::make_address(endpoint.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "probe target \"", endpoint.address, "\" is not an IP address"));
  }
  switch (endpoint.transport) {
    case Transport::kUdp: {
      auto flow = std::make_unique<UdpFlow>(io, std::move(handlers));
      if (absl::Status s = flow->Connect(io, {address, endpoint.port}); !s.ok())
        return s;
      return flow;
    }
    case Transport::kTcp: {
      auto flow = std::make_unique<TcpFlow>(io, std::move(handlers));
      flow->Connect({address, endpoint.port});
      return flow;
    }
    case Transport::kTls:
      break;
  }
  return absl::UnimplementedError("TLS probes are not implemented yet");
}

}  // namespace sipresolver::sip
