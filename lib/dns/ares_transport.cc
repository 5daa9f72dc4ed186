#include "lib/dns/ares_transport.h"

#include <arpa/nameser.h>

#include <mutex>

#include "absl/strings/str_cat.h"

namespace sipresolver::dns {

struct AresTransport::Request {
  AresTransport* transport;
  RecordType type;
  Callback done;
};

namespace {

absl::Status AresError(int status, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", ares_strerror(status));
  switch (status) {
    case ARES_ETIMEOUT:
      return absl::DeadlineExceededError(message);
    case ARES_EBADRESP:
      return absl::DataLossError(message);
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      return absl::CancelledError(message);
    default:
      return absl::UnavailableError(message);
  }
}

void InitAresLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

}  // namespace

AresTransport::AresTransport(asio::io_context& io) : io_(io), timer_(io) {}

absl::StatusOr<std::unique_ptr<AresTransport>> AresTransport::Create(
    asio::io_context& io, const AresOptions& options) {
  InitAresLibraryOnce();
  std::unique_ptr<AresTransport> transport(new AresTransport(io));
  ares_options opts{};
  opts.sock_state_cb = &AresTransport::OnSocketState;
  opts.sock_state_cb_data = transport.get();
  opts.timeout = static_cast<int>(absl::ToInt64Milliseconds(options.timeout));
  opts.tries = options.tries;
  // Answers are cached above; c-ares must not search domains from
  // resolv.conf (a device looks up exactly the configured name).
  opts.flags = ARES_FLAG_NOSEARCH;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
                   ARES_OPT_TRIES | ARES_OPT_FLAGS;
  if (int rc = ares_init_options(&transport->channel_, &opts, mask);
      rc != ARES_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("c-ares init failed: ", ares_strerror(rc)));
  }
  if (!options.servers.empty()) {
    if (int rc = ares_set_servers_ports_csv(transport->channel_,
                                            options.servers.c_str());
        rc != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("dns_servers: \"", options.servers,
                       "\" is not a HOST:PORT list: ", ares_strerror(rc)));
    }
  }
  return transport;
}

// asio's cancel() throws only when the reactor itself fails; terminating is
// right then.
// NOLINTNEXTLINE(bugprone-exception-escape)
AresTransport::~AresTransport() {
  destroying_ = true;
  timer_.cancel();
  if (channel_ != nullptr) ares_destroy(channel_);  // Closes every socket.
  for (auto& [fd, watch] : watches_) watch.descriptor->release();
}

void AresTransport::CancelAll() {
  ares_cancel(channel_);
  ArmTimer();
}

void AresTransport::Query(const std::string& name, RecordType type,
                          Callback done) {
  auto* request = new Request{this, type, std::move(done)};
  ares_query(channel_, name.c_str(), ns_c_in, static_cast<int>(type),
             &AresTransport::OnAnswer, request);
  ArmTimer();
}

void AresTransport::OnAnswer(void* arg, int status, int timeouts,
                             unsigned char* abuf, int alen) {
  std::unique_ptr<Request> request(static_cast<Request*>(arg));
  if (request->transport->destroying_) return;
  absl::StatusOr<DnsAnswer> result;
  const bool has_answer = abuf != nullptr && alen > 0 &&
                          (status == ARES_SUCCESS || status == ARES_ENODATA ||
                           status == ARES_ENOTFOUND);
  if (has_answer) {
    result = ParseDnsAnswer(absl::MakeConstSpan(abuf, alen), request->type);
    if (result.ok() && result->rcode != kRcodeNoError &&
        result->rcode != kRcodeNxDomain) {
      result = absl::UnavailableError(
          absl::StrCat("DNS query: server answered rcode ", result->rcode));
    }
  } else if (status == ARES_ENOTFOUND) {
    DnsAnswer nxdomain;  // c-ares refused the name itself (e.g. ".onion").
    nxdomain.rcode = kRcodeNxDomain;
    nxdomain.qtype = request->type;
    result = std::move(nxdomain);
  } else {
    result = AresError(status, "DNS query");
  }
  request->done(std::move(result));
}

void AresTransport::OnSocketState(void* self, ares_socket_t fd, int readable,
                                  int writable) {
  static_cast<AresTransport*>(self)->UpdateWatch(fd, readable != 0,
                                                 writable != 0);
}

void AresTransport::UpdateWatch(ares_socket_t fd, bool readable,
                                bool writable) {
  if (!readable && !writable) {
    // c-ares is about to close fd: stop waiting without closing it ourselves.
    auto it = watches_.find(fd);
    if (it != watches_.end()) {
      it->second.descriptor->release();
      watches_.erase(it);
    }
    return;
  }
  auto [it, created] = watches_.try_emplace(fd);
  Watch& watch = it->second;
  if (created) {
    watch.descriptor =
        std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    watch.generation = next_generation_++;
  }
  watch.want_read = readable;
  watch.want_write = writable;
  ArmWaits(fd);
}

void AresTransport::ArmWaits(ares_socket_t fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  Watch& watch = it->second;
  const uint64_t generation = watch.generation;
  if (watch.want_read && !watch.read_waiting) {
    watch.read_waiting = true;
    watch.descriptor->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [this, fd, generation](const asio::error_code& ec) {
          if (ec != asio::error::operation_aborted)
            OnReady(fd, generation, true);
        });
  }
  if (watch.want_write && !watch.write_waiting) {
    watch.write_waiting = true;
    watch.descriptor->async_wait(
        asio::posix::stream_descriptor::wait_write,
        [this, fd, generation](const asio::error_code& ec) {
          if (ec != asio::error::operation_aborted)
            OnReady(fd, generation, false);
        });
  }
}

void AresTransport::OnReady(ares_socket_t fd, uint64_t generation, bool read) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second.generation != generation) return;
  (read ? it->second.read_waiting : it->second.write_waiting) = false;
  ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD,
                  read ? ARES_SOCKET_BAD : fd);
  ArmWaits(fd);  // No-op if c-ares closed it meanwhile.
  ArmTimer();
}

void AresTransport::ArmTimer() {
  timeval buffer;
  timeval* next = ares_timeout(channel_, nullptr, &buffer);
  if (next == nullptr) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::chrono::seconds(next->tv_sec) +
                       std::chrono::microseconds(next->tv_usec));
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    ArmTimer();
  });
}

}  // namespace sipresolver::dns
