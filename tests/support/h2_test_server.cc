#include "tests/support/h2_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sipresolver::testing {

std::string GrpcFrame(const std::string& message) {
  const uint32_t n = static_cast<uint32_t>(message.size());
  const char prefix[5] = {0, static_cast<char>(n >> 24),
                          static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                          static_cast<char>(n)};
  return std::string(prefix, 5) + message;
}

H2Script GrpcCall(const std::vector<std::string>& messages, int code,
                  const std::string& message) {
  H2Script script = {{H2Step::kHeaders, 200}};
  for (const std::string& m : messages)
    script.push_back({H2Step::kData, 0, GrpcFrame(m)});
  H2Step trailers{H2Step::kTrailers};
  trailers.headers = {{"grpc-status", std::to_string(code)}};
  if (!message.empty()) trailers.headers.push_back({"grpc-message", message});
  script.push_back(trailers);
  return script;
}

namespace {

// Points into `name` and `value`: both must outlive the submit call (string
// literals, or strings the caller keeps).
nghttp2_nv Header(absl::string_view name, absl::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
          name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// One client connection and the calls on it. Server thread only.
struct H2TestServer::Connection {
  struct Stream {
    int call = -1;
    std::string path;
    std::string data;  // What the data provider still has to send.
    std::vector<std::pair<std::string, std::string>> trailers;
    bool end_with_trailers = false;
  };
  H2TestServer* server = nullptr;
  int fd = -1;
  nghttp2_session* session = nullptr;
  std::string out;
  bool silent = false;
  bool close_after_flush = false;
  bool closed = false;
  std::map<int32_t, Stream> streams;

  ~Connection() {
    if (session) nghttp2_session_del(session);
    if (fd >= 0) close(fd);
  }

  static ssize_t ReadData(nghttp2_session* session, int32_t id, uint8_t* buf,
                          size_t length, uint32_t* flags, nghttp2_data_source*,
                          void* user) {
    auto* c = static_cast<Connection*>(user);
    Stream& s = c->streams[id];
    const size_t n = std::min(length, s.data.size());
    memcpy(buf, s.data.data(), n);
    s.data.erase(0, n);
    if (!s.data.empty()) return static_cast<ssize_t>(n);
    if (!s.end_with_trailers) {
      if (n > 0) return static_cast<ssize_t>(n);
      return NGHTTP2_ERR_DEFERRED;  // The stream stays open, silent.
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    std::vector<nghttp2_nv> nva;
    for (const auto& [k, v] : s.trailers) nva.push_back(Header(k, v));
    nghttp2_submit_trailer(session, id, nva.data(), nva.size());
    return static_cast<ssize_t>(n);
  }

  void Run(int32_t id, const H2Script& script) {
    Stream& s = streams[id];
    bool headers_sent = false;
    for (const H2Step& step : script) {
      switch (step.kind) {
        case H2Step::kHeaders:
          headers_sent = true;
          break;
        case H2Step::kData:
          s.data += step.bytes;
          break;
        case H2Step::kTrailers:
          s.trailers = step.headers;
          s.end_with_trailers = true;
          break;
        default:
          break;
      }
    }
    const std::string status = std::to_string(
        script.empty() || script[0].kind != H2Step::kHeaders || !script[0].code
            ? 200
            : script[0].code);
    constexpr absl::string_view grpc = "application/grpc";
    if (!headers_sent && s.end_with_trailers) {  // Trailers-only.
      std::vector<nghttp2_nv> nva = {Header(":status", status),
                                     Header("content-type", grpc)};
      for (const auto& [k, v] : s.trailers) nva.push_back(Header(k, v));
      nghttp2_submit_headers(session, NGHTTP2_FLAG_END_STREAM, id, nullptr,
                             nva.data(), nva.size(), nullptr);
    } else if (headers_sent) {
      nghttp2_nv nva[] = {Header(":status", status),
                          Header("content-type", grpc)};
      nghttp2_data_provider provider;
      provider.source.ptr = nullptr;
      provider.read_callback = ReadData;
      nghttp2_submit_response(session, id, nva, 2, &provider);
    }
    for (const H2Step& step : script) {
      if (step.kind == H2Step::kReset) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, step.code);
      } else if (step.kind == H2Step::kGoaway) {
        nghttp2_submit_goaway(
            session, NGHTTP2_FLAG_NONE, 0, step.code,
            reinterpret_cast<const uint8_t*>(step.bytes.data()),
            step.bytes.size());
        close_after_flush = true;
      } else if (step.kind == H2Step::kSilence) {
        silent = true;
      }
    }
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame,
                      const uint8_t* name, size_t namelen, const uint8_t* value,
                      size_t valuelen, uint8_t, void* user) {
    auto* c = static_cast<Connection*>(user);
    if (std::string(reinterpret_cast<const char*>(name), namelen) == ":path") {
      c->streams[frame->hd.stream_id].path =
          std::string(reinterpret_cast<const char*>(value), valuelen);
    }
    return 0;
  }

  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* c = static_cast<Connection*>(user);
    if (frame->hd.type == NGHTTP2_PING && !(frame->hd.flags & NGHTTP2_FLAG_ACK))
      ++c->server->pings_;
    const bool request_done =
        (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (!request_done) return 0;
    const int call = c->server->calls_++;
    c->streams[frame->hd.stream_id].call = call;
    {
      absl::MutexLock lock(&c->server->mu_);
      c->server->paths_.push_back(c->streams[frame->hd.stream_id].path);
    }
    c->Run(frame->hd.stream_id, c->server->script_(call));
    return 0;
  }

  bool Start(H2TestServer* s, int client) {
    server = s;
    fd = client;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, OnFrame);
    const int rc = nghttp2_session_server_new(&session, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (rc != 0) return false;
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
    return true;
  }

  // Call `call`'s stream gets `bytes` more DATA; false when it is not here.
  bool Send(int call, const std::string& bytes) {
    for (auto& [id, stream] : streams) {
      if (stream.call != call) continue;
      stream.data += bytes;
      nghttp2_session_resume_data(session, id);
      return true;
    }
    return false;
  }

  void Pump(short revents) {
    if (silent || closed) return;
    if (revents & POLLIN) {
      uint8_t data[16384];
      const ssize_t n = recv(fd, data, sizeof data, 0);
      if (n <= 0 || nghttp2_session_mem_recv(session, data, n) < 0) {
        closed = true;
        return;
      }
    }
    for (;;) {
      const uint8_t* data;
      const ssize_t n = nghttp2_session_mem_send(session, &data);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), n);
    }
    while (!out.empty()) {
      const ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      out.erase(0, n);
    }
    if (close_after_flush && out.empty()) closed = true;
  }
};

absl::StatusOr<std::unique_ptr<H2TestServer>> H2TestServer::Start(
    std::function<H2Script(int)> script) {
  auto server = std::unique_ptr<H2TestServer>(new H2TestServer());
  server->script_ = std::move(script);
  server->listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (server->listener_ < 0 ||
      bind(server->listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) ||
      listen(server->listener_, 16) ||
      getsockname(server->listener_, reinterpret_cast<sockaddr*>(&a), &len) ||
      pipe2(server->wake_, O_CLOEXEC | O_NONBLOCK)) {
    return absl::InternalError("H2TestServer: cannot listen on loopback");
  }
  server->port_ = ntohs(a.sin_port);
  server->thread_ = std::thread([s = server.get()] { s->Loop(); });
  return server;
}

void H2TestServer::Send(int call, std::string bytes) {
  {
    absl::MutexLock lock(&mu_);
    outbox_.emplace_back(call, std::move(bytes));
  }
  const char c = 0;
  (void)!write(wake_[1], &c, 1);
}

H2TestServer::~H2TestServer() {
  if (thread_.joinable()) {
    stopping_ = true;
    const char c = 0;
    (void)!write(wake_[1], &c, 1);
    thread_.join();
  }
  for (int fd : {listener_, wake_[0], wake_[1]})
    if (fd >= 0) close(fd);
}

std::string H2TestServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::vector<std::string> H2TestServer::paths() const {
  absl::MutexLock lock(&mu_);
  return paths_;
}

void H2TestServer::Loop() {
  std::vector<std::unique_ptr<Connection>> connections;
  for (;;) {
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
    for (const auto& c : connections) {
      const bool active = !c->silent && !c->closed;
      fds.push_back(
          {active ? c->fd : -1,
           static_cast<short>(POLLIN | (c->out.empty() ? 0 : POLLOUT)), 0});
    }
    poll(fds.data(), fds.size(), 100);
    if (fds[0].revents) {
      char drain[64];
      (void)!read(wake_[0], drain, sizeof drain);
      if (stopping_) return;
      std::vector<std::pair<int, std::string>> outbox;
      {
        absl::MutexLock lock(&mu_);
        outbox.swap(outbox_);
      }
      for (const auto& [call, bytes] : outbox)
        for (const auto& c : connections)
          if (c->Send(call, bytes)) break;
    }
    const size_t polled = connections.size();
    if (fds[1].revents) {
      const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        auto c = std::make_unique<Connection>();
        if (c->Start(this, client)) {
          ++connections_;
          c->Pump(0);
          connections.push_back(std::move(c));
        }
      }
    }
    for (size_t i = 0; i < polled; ++i)
      connections[i]->Pump(fds[2 + i].revents);
    for (auto it = connections.begin(); it != connections.end();) {
      it = (*it)->closed ? connections.erase(it) : it + 1;
    }
  }
}

}  // namespace sipresolver::testing
