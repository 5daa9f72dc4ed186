// SipProber: Prober over real sockets. One probe is one or two non-INVITE
// client transactions (RFC 3261 17.1.2): the request, and when the server
// challenges and credentials are configured, the request again with a digest
// answer. Over UDP, Timer E retransmits from T1 doubling up to T2; the probe
// timeout (Timer F, much shorter than the RFC's 32 s) ends a transaction.
// Responses that do not match the transaction (branch, Call-ID, CSeq) are
// ignored and counted. Loop thread only.
#ifndef SIPRESOLVER_LIB_SIP_SIP_PROBER_H_
#define SIPRESOLVER_LIB_SIP_SIP_PROBER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "asio/io_context.hpp"
#include "lib/core/clock.h"
#include "lib/core/random.h"
#include "lib/core/timer.h"
#include "lib/sip/prober.h"

namespace sipresolver::sip {

struct ProberOptions {
  absl::Duration t1 = absl::Milliseconds(500);
  absl::Duration t2 = absl::Seconds(4);
  absl::Duration timeout = absl::Seconds(2);  // Per transaction (Timer F).
  std::string user = "sipresolver-probe";     // AOR user without credentials.
  std::string user_agent = "sipresolver-probe/1";
  // TLS probes: the server's certificate must chain to the system trust
  // store or to this PEM file of CA certificates ("": system store only),
  // and name the probe's domain. tls_verify = false accepts any certificate
  // (a lab registrar with a self-signed one); the probe is then encrypted
  // but the server is not authenticated.
  std::string tls_ca_file;
  bool tls_verify = true;
};

class SipProber : public Prober {
 public:
  // Everything passed in must outlive the prober.
  SipProber(asio::io_context& io, TimerFactory& timers, const Clock& clock,
            Random& random, const ProberOptions& options);
  ~SipProber() override;  // Abandons probes in flight; no callback runs.

  void Probe(const ProbeRequest& request, Callback done) override;

  size_t in_flight() const { return jobs_.size(); }
  // Responses dropped: unparsable or not matching the transaction.
  uint64_t ignored_responses() const { return ignored_responses_; }

 private:
  class Job;
  void Finish(uint64_t id, ProbeResult result);

  asio::io_context& io_;
  TimerFactory& timers_;
  const Clock& clock_;
  Random& random_;
  const ProberOptions options_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Job>> jobs_;
  uint64_t next_id_ = 1;
  uint64_t ignored_responses_ = 0;
};

}  // namespace sipresolver::sip

#endif  // SIPRESOLVER_LIB_SIP_SIP_PROBER_H_
