#include "lib/sip/sip_prober.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asio/post.hpp"
#include "lib/sip/digest.h"
#include "lib/sip/flow.h"
#include "lib/sip/ids.h"
#include "lib/sip/message.h"

namespace sipresolver::sip {

// One probe: open the flow, run the transaction(s), report once.
class SipProber::Job {
 public:
  Job(SipProber& prober, uint64_t id, ProbeRequest request, Callback done)
      : prober_(prober),
        id_(id),
        request_(std::move(request)),
        done_(std::move(done)),
        call_id_(NewCallId(prober.random_, "sipresolver")),
        from_tag_(NewTag(prober.random_)),
        started_(prober.clock_.Now()) {}

  Callback TakeCallback() { return std::move(done_); }

  void Start() {
    // Connecting (a TCP connect, a TLS handshake) has the same bound as a
    // transaction: a server that accepts but never completes a handshake
    // would otherwise hold the probe forever. SendRequest re-arms it.
    timeout_ = prober_.timers_.After(prober_.options_.timeout, [this] {
      Fail(ProbeResult::Outcome::kTimeout,
           absl::StrCat("not connected within ",
                        absl::FormatDuration(prober_.options_.timeout)));
    });
    auto flow = Flow::Open(
        prober_.io_, request_.endpoint,
        Flow::TlsSettings{request_.domain, prober_.options_.tls_ca_file,
                          prober_.options_.tls_verify},
        Flow::Handlers{[this] {
                         if (!finished_) SendRequest("");
                       },
                       [this](const std::string& m) {
                         if (!finished_) OnMessage(m);
                       },
                       [this](const absl::Status& e) {
                         if (finished_) return;
                         Fail(ProbeResult::Outcome::kNetworkError,
                              std::string(e.message()));
                       }});
    if (!flow.ok()) {
      timeout_.reset();
      // Report from the loop, never inside Probe().
      asio::post(prober_.io_, [&prober = prober_, id = id_,
                               error = std::string(flow.status().message())] {
        ProbeResult r;
        r.outcome = ProbeResult::Outcome::kNetworkError;
        r.error = error;
        prober.Finish(id, std::move(r));
      });
      return;
    }
    flow_ = *std::move(flow);
  }

 private:
  void SendRequest(const std::string& authorization) {
    RequestParams p;
    p.method = request_.use_options ? "OPTIONS" : "REGISTER";
    p.domain = request_.domain;
    p.transport = std::string(TransportName(request_.endpoint.transport));
    p.local_host = flow_->local_host();
    p.local_port = flow_->local_port();
    p.user = request_.credentials ? request_.credentials->username
                                  : prober_.options_.user;
    p.call_id = call_id_;
    p.from_tag = from_tag_;
    p.branch = branch_ = NewBranch(prober_.random_);
    p.cseq = ++cseq_;
    p.expires =
        static_cast<int>(absl::ToInt64Seconds(request_.register_expires));
    p.user_agent = prober_.options_.user_agent;
    p.authorization = authorization;
    absl::StatusOr<std::string> message = BuildRequest(p);
    if (!message.ok()) {
      return Fail(
          ProbeResult::Outcome::kNetworkError,
          absl::StrCat("cannot build request: ", message.status().message()));
    }
    method_ = p.method;
    request_uri_ = RequestUri(p);
    message_ = *std::move(message);
    flow_->Send(message_);
    retransmit_interval_ = prober_.options_.t1;
    if (!flow_->reliable()) ArmRetransmit();
    timeout_ = prober_.timers_.After(prober_.options_.timeout, [this] {
      Fail(ProbeResult::Outcome::kTimeout,
           absl::StrCat("no final response within ",
                        absl::FormatDuration(prober_.options_.timeout)));
    });
  }

  // Timer E: resend, doubling the interval up to T2.
  void ArmRetransmit() {
    retransmit_ = prober_.timers_.After(retransmit_interval_, [this] {
      flow_->Send(message_);
      retransmit_interval_ =
          std::min(2 * retransmit_interval_, prober_.options_.t2);
      ArmRetransmit();
    });
  }

  void OnMessage(const std::string& bytes) {
    absl::StatusOr<Response> response = ParseResponse(bytes);
    if (!response.ok() || response->vias.empty() ||
        response->vias.front().branch != branch_ ||
        response->call_id != call_id_ || response->cseq != cseq_ ||
        response->cseq_method != method_) {
      ++prober_.ignored_responses_;
      return;
    }
    if (response->status_code < 200) {  // Proceeding: retransmit at T2.
      retransmit_interval_ = prober_.options_.t2;
      return;
    }
    retransmit_.reset();
    timeout_.reset();
    const Via& via = response->vias.front();
    if (via.received) result_.via_received = via.received;
    if (via.rport) result_.via_rport = via.rport;
    const int code = response->status_code;
    if ((code == 401 || code == 407) && request_.credentials &&
        !result_.authenticated) {
      return Authenticate(*response);
    }
    result_.outcome = ProbeResult::Outcome::kResponse;
    result_.status_code = code;
    Finish();
  }

  void Authenticate(const Response& response) {
    const bool proxy = response.status_code == 407;
    auto challenge = std::find_if(
        response.challenges.begin(), response.challenges.end(),
        [&](const Challenge& c) {
          return c.proxy == proxy && absl::EqualsIgnoreCase(c.scheme, "Digest");
        });
    result_.authenticated = true;
    if (challenge == response.challenges.end()) {
      result_.outcome = ProbeResult::Outcome::kResponse;
      result_.status_code = response.status_code;
      result_.error = "challenge without a Digest scheme";
      return Finish();
    }
    DigestCredentials credentials{request_.credentials->username,
                                  request_.credentials->password};
    absl::StatusOr<std::string> header = DigestAuthorizationHeader(
        ToDigestChallenge(*challenge), credentials,
        DigestResponseParams{method_, request_uri_, NewTag(prober_.random_),
                             1});
    if (!header.ok()) {
      result_.outcome = ProbeResult::Outcome::kResponse;
      result_.status_code = response.status_code;
      result_.error = absl::StrCat("cannot answer the challenge: ",
                                   header.status().message());
      return Finish();
    }
    SendRequest(*header);
  }

  void Fail(ProbeResult::Outcome outcome, std::string error) {
    result_.outcome = outcome;
    result_.error = std::move(error);
    Finish();
  }

  void Finish() {
    finished_ = true;
    retransmit_.reset();
    timeout_.reset();
    result_.latency = prober_.clock_.Now() - started_;
    prober_.Finish(id_, std::move(result_));  // Destroys this Job.
  }

  SipProber& prober_;
  const uint64_t id_;
  const ProbeRequest request_;
  Callback done_;
  const std::string call_id_;
  const std::string from_tag_;
  const absl::Time started_;
  std::unique_ptr<Flow> flow_;
  std::unique_ptr<Timer> retransmit_;
  std::unique_ptr<Timer> timeout_;
  absl::Duration retransmit_interval_;
  std::string branch_;
  std::string method_;
  std::string request_uri_;  // What a digest answer must repeat.
  std::string message_;
  uint32_t cseq_ = 0;
  bool finished_ = false;  // Late socket events after Finish are ignored.
  ProbeResult result_;
};

SipProber::SipProber(asio::io_context& io, TimerFactory& timers,
                     const Clock& clock, Random& random,
                     const ProberOptions& options)
    : io_(io),
      timers_(timers),
      clock_(clock),
      random_(random),
      options_(options) {}

SipProber::~SipProber() = default;

void SipProber::Probe(const ProbeRequest& request, Callback done) {
  const uint64_t id = next_id_++;
  auto job = std::make_unique<Job>(*this, id, request, std::move(done));
  Job& started = *job;
  jobs_.emplace(id, std::move(job));
  started.Start();
}

void SipProber::Finish(uint64_t id, ProbeResult result) {
  auto node = jobs_.extract(id);
  if (node.empty()) return;
  Callback done = node.mapped()->TakeCallback();
  // The job may be running one of its own handlers: delete it afterwards.
  asio::post(io_, [job = std::shared_ptr<Job>(std::move(node.mapped()))] {});
  done(std::move(result));
}

}  // namespace sipresolver::sip
