#include "server/etcd/etcd_client.h"

#include <arpa/inet.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "server/etcd/etcd_status.h"

namespace sipresolver::etcd {
namespace {

constexpr absl::Duration kReadRetryInterval = absl::Milliseconds(50);
constexpr absl::Duration kConnectionWatchInterval = absl::Milliseconds(200);

enum class HostKind { kIpv4, kIpv6, kName };

struct Endpoint {
  HostKind kind;
  std::string text;  // "host:port", "[v6]:port".
};

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text) {
  auto invalid = [&](absl::string_view rule) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd endpoints: \"", text, "\": ", rule));
  };
  absl::string_view host;
  absl::string_view port;
  HostKind kind;
  if (absl::ConsumePrefix(&text, "[")) {
    const size_t close = text.find("]:");
    if (close == absl::string_view::npos) {
      return invalid("an IPv6 endpoint is [address]:port");
    }
    host = text.substr(0, close);
    port = text.substr(close + 2);
    in6_addr a6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) {
      return invalid("not an IPv6 address in brackets");
    }
    kind = HostKind::kIpv6;
  } else {
    const size_t colon = text.find(':');
    if (colon == absl::string_view::npos ||
        text.find(':', colon + 1) != absl::string_view::npos) {
      return invalid("must be host:port (IPv6 as [address]:port)");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.empty()) return invalid("the host is empty");
    in_addr a4;
    kind = inet_pton(AF_INET, std::string(host).c_str(), &a4) == 1
               ? HostKind::kIpv4
               : HostKind::kName;
  }
  int number = 0;
  if (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535) {
    return invalid("the port must be a number from 1 to 65535");
  }
  return Endpoint{kind, kind == HostKind::kIpv6
                            ? absl::StrCat("[", host, "]:", number)
                            : absl::StrCat(host, ":", number)};
}

EtcdKeyValue FromProto(const mvccpb::KeyValue& kv) {
  return {kv.key(),          kv.value(),   kv.create_revision(),
          kv.mod_revision(), kv.version(), kv.lease()};
}

}  // namespace

absl::StatusOr<std::string> EtcdClient::ChannelTarget(
    absl::string_view endpoints) {
  std::vector<Endpoint> parsed;
  for (absl::string_view e : absl::StrSplit(endpoints, ',')) {
    e = absl::StripAsciiWhitespace(e);
    if (e.empty()) continue;
    absl::StatusOr<Endpoint> endpoint = ParseEndpoint(e);
    if (!endpoint.ok()) return endpoint.status();
    parsed.push_back(*std::move(endpoint));
  }
  if (parsed.empty()) {
    return absl::InvalidArgumentError(
        "etcd endpoints: empty (want host:port[,host:port...])");
  }
  const HostKind kind = parsed.front().kind;
  if (parsed.size() == 1 && kind == HostKind::kName) {
    return absl::StrCat("dns:///", parsed.front().text);
  }
  for (const Endpoint& e : parsed) {
    if (e.kind != kind || e.kind == HostKind::kName) {
      // gRPC 1.51 balances over a list of addresses, not of names.
      return absl::InvalidArgumentError(absl::StrCat(
          "etcd endpoints: \"", endpoints,
          "\": several endpoints must all be IPv4 or all IPv6 addresses "
          "(a name only as the single endpoint)"));
    }
  }
  return absl::StrCat(
      kind == HostKind::kIpv4 ? "ipv4:" : "ipv6:",
      absl::StrJoin(parsed, ",", [](std::string* out, const Endpoint& e) {
        out->append(e.text);
      }));
}

std::string EtcdClient::PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(
    const EtcdClientOptions& options) {
  absl::StatusOr<std::string> target = ChannelTarget(options.endpoints);
  if (!target.ok()) return target.status();
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("etcd request_timeout: must be positive");
  }
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  // Reconnect soon after a member comes back (gRPC's default backoff grows
  // to 120 s), so that leases are refreshed and watches resume in time.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Notice a dead connection under an idle watch; etcd refuses pings more
  // often than every 5 s (--grpc-keepalive-min-time).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      options.credentials ? options.credentials
                          : grpc::InsecureChannelCredentials();
  return std::unique_ptr<EtcdClient>(
      new EtcdClient(grpc::CreateCustomChannel(*target, credentials, args),
                     options.request_timeout));
}

EtcdClient::EtcdClient(std::shared_ptr<grpc::Channel> channel,
                       absl::Duration timeout)
    : channel_(std::move(channel)),
      request_timeout_(timeout),
      kv_(etcdserverpb::KV::NewStub(channel_)),
      lease_(etcdserverpb::Lease::NewStub(channel_)),
      connection_watch_([this] { WatchConnections(); }) {}

EtcdClient::~EtcdClient() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  connection_watch_.join();  // After its current wait, at most 200 ms.
  connection_events_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (connection_events_.Next(&tag, &ok)) {
  }
}

void EtcdClient::WatchConnections() {
  // Waiting on the queue polls the channel's connections; a state change
  // or the timeout ends each wait.
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    channel_->NotifyOnStateChange(
        channel_->GetState(/*try_to_connect=*/false),
        absl::ToChronoTime(absl::Now() + kConnectionWatchInterval),
        &connection_events_, nullptr);
    void* tag = nullptr;
    bool ok = false;
    if (!connection_events_.Next(&tag, &ok)) return;
  }
}

void EtcdClient::Prepare(grpc::ClientContext& context) const {
  context.set_deadline(absl::ToChronoTime(absl::Now() + request_timeout_));
  context.set_wait_for_ready(true);
}

absl::StatusOr<EtcdLease> EtcdClient::Grant(absl::Duration ttl) {
  const int64_t seconds =
      absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)));
  if (seconds < 1) {
    return absl::InvalidArgumentError("etcd lease ttl: at least 1 s");
  }
  grpc::ClientContext context;
  Prepare(context);
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(seconds);
  etcdserverpb::LeaseGrantResponse response;
  if (absl::Status s = FromGrpc(
          lease_->LeaseGrant(&context, request, &response), "LeaseGrant");
      !s.ok()) {
    return s;
  }
  if (!response.error().empty()) {
    return absl::InternalError(
        absl::StrCat("etcd LeaseGrant: ", response.error()));
  }
  return EtcdLease{response.id(), absl::Seconds(response.ttl())};
}

absl::Status EtcdClient::Revoke(int64_t lease,
                                std::optional<absl::Duration> timeout) {
  grpc::ClientContext context;
  Prepare(context);
  if (timeout && *timeout < request_timeout_) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + *timeout));
  }
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  return FromGrpc(lease_->LeaseRevoke(&context, request, &response),
                  "LeaseRevoke");
}

absl::StatusOr<int64_t> EtcdClient::Put(absl::string_view key,
                                        absl::string_view value,
                                        int64_t lease) {
  grpc::ClientContext context;
  Prepare(context);
  etcdserverpb::PutRequest request;
  request.set_key(std::string(key));
  request.set_value(std::string(value));
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  if (absl::Status s = FromGrpc(kv_->Put(&context, request, &response), "Put");
      !s.ok()) {
    return s;
  }
  return response.header().revision();
}

absl::Status EtcdClient::CreateIfAbsent(absl::string_view key,
                                        absl::string_view value,
                                        int64_t lease) {
  grpc::ClientContext context;
  Prepare(context);
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* absent = request.add_compare();
  absent->set_key(std::string(key));
  absent->set_target(etcdserverpb::Compare::CREATE);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_create_revision(0);
  etcdserverpb::PutRequest* put = request.add_success()->mutable_request_put();
  put->set_key(std::string(key));
  put->set_value(std::string(value));
  put->set_lease(lease);
  etcdserverpb::TxnResponse response;
  if (absl::Status s = FromGrpc(kv_->Txn(&context, request, &response), "Txn");
      !s.ok()) {
    return s;
  }
  if (!response.succeeded()) {
    return absl::AlreadyExistsError(
        absl::StrCat("etcd key \"", key, "\" exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<EtcdRange> EtcdClient::Range(std::string key,
                                            std::string range_end) {
  etcdserverpb::RangeRequest request;
  request.set_key(std::move(key));
  request.set_range_end(std::move(range_end));
  etcdserverpb::RangeResponse response;
  // A read is safe to repeat: retry a connection that broke under it (the
  // first call after etcd restarted finds the old connection dead, as a
  // synchronous channel with no call in flight did not watch it).
  const absl::Time deadline = absl::Now() + request_timeout_;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    context.set_wait_for_ready(true);
    absl::Status s =
        FromGrpc(kv_->Range(&context, request, &response), "Range");
    if (s.ok()) break;
    if (s.code() != absl::StatusCode::kUnavailable ||
        absl::Now() + kReadRetryInterval >= deadline) {
      return s;
    }
    absl::SleepFor(kReadRetryInterval);
  }
  EtcdRange range;
  range.revision = response.header().revision();
  range.kvs.reserve(response.kvs_size());
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    range.kvs.push_back(FromProto(kv));
  }
  return range;
}

absl::StatusOr<std::optional<EtcdKeyValue>> EtcdClient::Get(
    absl::string_view key) {
  absl::StatusOr<EtcdRange> range = Range(std::string(key), "");
  if (!range.ok()) return range.status();
  if (range->kvs.empty()) return std::nullopt;
  return std::move(range->kvs.front());
}

absl::StatusOr<EtcdRange> EtcdClient::GetPrefix(absl::string_view prefix) {
  return Range(std::string(prefix), PrefixEnd(prefix));
}

absl::StatusOr<int64_t> EtcdClient::DeleteRange(std::string key,
                                                std::string range_end) {
  grpc::ClientContext context;
  Prepare(context);
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::move(key));
  request.set_range_end(std::move(range_end));
  etcdserverpb::DeleteRangeResponse response;
  if (absl::Status s = FromGrpc(kv_->DeleteRange(&context, request, &response),
                                "DeleteRange");
      !s.ok()) {
    return s;
  }
  return response.deleted();
}

absl::StatusOr<int64_t> EtcdClient::Delete(absl::string_view key) {
  return DeleteRange(std::string(key), "");
}

absl::StatusOr<int64_t> EtcdClient::DeletePrefix(absl::string_view prefix) {
  return DeleteRange(std::string(prefix), PrefixEnd(prefix));
}

absl::Status EtcdClient::Compact(int64_t revision) {
  grpc::ClientContext context;
  Prepare(context);
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(true);
  etcdserverpb::CompactionResponse response;
  return FromGrpc(kv_->Compact(&context, request, &response), "Compact");
}

std::unique_ptr<LeaseKeeper> EtcdClient::KeepAlive(
    const EtcdLease& lease, LeaseKeeper::LostCallback on_lost) {
  return std::make_unique<LeaseKeeper>(channel_, lease.id, lease.ttl,
                                       std::move(on_lost));
}

std::unique_ptr<PrefixWatcher> EtcdClient::WatchPrefix(
    std::string prefix, int64_t start_revision,
    PrefixWatcher::Callbacks callbacks) {
  return std::make_unique<PrefixWatcher>(channel_, std::move(prefix),
                                         start_revision, std::move(callbacks));
}

}  // namespace sipresolver::etcd
