#include "lib/sip/flow.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <deque>
#include <map>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "asio/ip/tcp.hpp"
#include "asio/ip/udp.hpp"
#include "asio/post.hpp"
#include "asio/ssl.hpp"
#include "asio/write.hpp"
#include "lib/core/host_port.h"
#include "lib/sip/message.h"

namespace sipresolver::sip {
namespace {

constexpr size_t kMaxMessageBytes = size_t{64} * 1024;

absl::Status NetworkError(absl::string_view what, const asio::error_code& ec) {
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

std::string HostText(const asio::ip::address& a) {
  return BracketedHost(a.to_string());
}

// The socket and handlers live in a shared State that pending Asio handlers
// keep alive; Flow's destructor closes it and drops the handlers, so a late
// completion finds `closed` and does nothing.
template <typename Socket>
struct State {
  template <typename... SocketArgs>
  explicit State(Flow::Handlers h, SocketArgs&&... args)
      : socket(std::forward<SocketArgs>(args)...), handlers(std::move(h)) {}
  void Fail(absl::Status error) {
    if (closed) return;
    closed = true;
    asio::error_code ignored;
    socket.lowest_layer().close(ignored);
    if (handlers.on_error) handlers.on_error(std::move(error));
  }
  // No TLS close_notify: the probe is over and the server copes with a
  // plain close as with a vanished client.
  void Close() {
    closed = true;
    asio::error_code ignored;
    socket.lowest_layer().close(ignored);
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
      : state_(std::make_shared<UdpState>(std::move(handlers), io)) {}
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
  static void Receive(const std::shared_ptr<UdpState>& s) {
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

using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

// TLS client contexts, one per (CA file, verify): loading the system trust
// store takes milliseconds, too much to repeat for every probe. They are
// never freed (a few at most), and each SSL object holds its own reference
// anyway. A CA file is read once: replacing it needs a restart.
absl::StatusOr<asio::ssl::context*> TlsContextFor(const std::string& ca_file,
                                                  bool verify) {
  ABSL_CONST_INIT static absl::Mutex mu(absl::kConstInit);
  static auto* contexts = new std::map<std::pair<std::string, bool>,
                                       std::unique_ptr<asio::ssl::context>>();
  absl::MutexLock lock(&mu);
  std::unique_ptr<asio::ssl::context>& slot = (*contexts)[{ca_file, verify}];
  if (slot) return slot.get();
  // Protocol versions and ciphers: the system's OpenSSL policy (TLS 1.2+).
  auto context =
      std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  asio::error_code ec;
  if (verify) {
    context->set_default_verify_paths(ec);
    if (!ec && !ca_file.empty()) context->load_verify_file(ca_file, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot load TLS trust anchors",
                       ca_file.empty() ? "" : absl::StrCat(" from ", ca_file),
                       ": ", ec.message()));
    }
  }
  context->set_verify_mode(
      verify ? asio::ssl::verify_peer : asio::ssl::verify_none, ec);
  slot = std::move(context);
  return slot.get();
}

// SNI, and the name OpenSSL itself checks the certificate against (rather
// than asio's host_name_verification callback) so that a mismatch is
// reported as "hostname mismatch" instead of an unexplained failure.
absl::Status ConfigurePeer(TlsStream& stream, const Flow::TlsSettings& tls) {
  absl::string_view name = tls.server_name;
  absl::ConsumeSuffix(&name, ".");  // An absolute name: same certificate.
  const std::string host(name);
  asio::error_code not_ip;
  asio::ip::make_address(host, not_ip);
  SSL* ssl = stream.native_handle();
  // RFC 6066: no IP literals in SNI.
  if (not_ip && !host.empty() &&
      SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", host, "\" cannot be sent as TLS server name"));
  }
  if (!tls.verify) return absl::OkStatus();
  if (host.empty()) {
    return absl::InvalidArgumentError(
        "a verified TLS probe needs the server name to check");
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = not_ip ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0)
                        : X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  if (ok != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", host, "\" cannot be checked against a certificate"));
  }
  return absl::OkStatus();
}

// Why a handshake failed; for a rejected certificate, what was wrong with it.
std::string HandshakeFailure(TlsStream& stream, const asio::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category() ||
      ERR_GET_REASON(ec.value()) != SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return ec.message();
  }
  return absl::StrCat("certificate verify failed (",
                      X509_verify_cert_error_string(
                          SSL_get_verify_result(stream.native_handle())),
                      ")");
}

// TCP and TLS: connect (and for TLS, handshake), then a byte stream cut into
// messages by Content-Length. One template so both share the framing and the
// write queue; `Stream` is the socket or the SSL stream over it.
template <typename Stream>
class StreamFlow : public Flow {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  static constexpr const char* kName = kTls ? "TLS" : "TCP";

  struct StreamState : State<Stream> {
    using State<Stream>::State;
    bool connected = false;
    bool writing = false;
    std::deque<std::string> outbox;
    std::string inbox;
    asio::ip::tcp::endpoint local;
    std::string peer;  // "127.0.0.1:5061", for error messages.
  };

  template <typename... StreamArgs>
  explicit StreamFlow(Handlers handlers, StreamArgs&&... args)
      : state_(std::make_shared<StreamState>(
            std::move(handlers), std::forward<StreamArgs>(args)...)) {}
  ~StreamFlow() override { state_->Close(); }

  Stream& stream() { return state_->socket; }

  void Connect(const asio::ip::tcp::endpoint& to) {
    state_->peer = absl::StrCat(HostText(to.address()), ":", to.port());
    state_->socket.lowest_layer().async_connect(
        to, [s = state_](const asio::error_code& ec) {
          if (s->closed) return;
          if (ec)
            return s->Fail(NetworkError(absl::StrCat(kName, " connect"), ec));
          asio::error_code ignored;
          s->local = s->socket.lowest_layer().local_endpoint(ignored);
          if constexpr (kTls) {
            Handshake(s);
          } else {
            Connected(s);
          }
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
  static void Handshake(std::shared_ptr<StreamState> s) {
    s->socket.async_handshake(
        asio::ssl::stream_base::client, [s](const asio::error_code& ec) {
          if (s->closed) return;
          if (ec) {
            return s->Fail(absl::UnavailableError(
                absl::StrCat("TLS handshake with ", s->peer,
                             " failed: ", HandshakeFailure(s->socket, ec))));
          }
          Connected(s);
        });
  }

  static void Connected(const std::shared_ptr<StreamState>& s) {
    s->connected = true;
    Read(s);
    Write(s);  // Whatever was sent before the connection was up.
    if (s->handlers.on_connected) s->handlers.on_connected();
  }

  // One write in flight; the rest wait in the outbox.
  static void Write(std::shared_ptr<StreamState> s) {
    if (s->writing || s->outbox.empty()) return;
    s->writing = true;
    asio::async_write(
        s->socket, asio::buffer(s->outbox.front()),
        [s](const asio::error_code& ec, size_t) {
          s->writing = false;
          if (s->closed) return;
          if (ec)
            return s->Fail(NetworkError(absl::StrCat(kName, " send"), ec));
          s->outbox.pop_front();
          Write(s);
        });
  }

  static void Read(std::shared_ptr<StreamState> s) {
    auto chunk = std::make_shared<std::array<char, 4096>>();
    s->socket.async_read_some(
        asio::buffer(*chunk), [s, chunk](const asio::error_code& ec, size_t n) {
          if (s->closed) return;
          if (ec)
            return s->Fail(NetworkError(absl::StrCat(kName, " receive"), ec));
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

  std::shared_ptr<StreamState> state_;
};

using TcpFlow = StreamFlow<asio::ip::tcp::socket>;
using TlsFlow = StreamFlow<TlsStream>;

}  // namespace

absl::StatusOr<std::unique_ptr<Flow>> Flow::Open(asio::io_context& io,
                                                 const Endpoint& endpoint,
                                                 const TlsSettings& tls,
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
      auto flow = std::make_unique<TcpFlow>(std::move(handlers), io);
      flow->Connect({address, endpoint.port});
      return flow;
    }
    case Transport::kTls: {
      absl::StatusOr<asio::ssl::context*> context =
          TlsContextFor(tls.ca_file, tls.verify);
      if (!context.ok()) return context.status();
      auto flow = std::make_unique<TlsFlow>(std::move(handlers), io, **context);
      if (absl::Status s = ConfigurePeer(flow->stream(), tls); !s.ok())
        return s;
      flow->Connect({address, endpoint.port});
      return flow;
    }
  }
  return absl::InvalidArgumentError("unknown transport");
}

}  // namespace sipresolver::sip
