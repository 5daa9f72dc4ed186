// When a STUN client (re)transmits a Binding request over UDP and when it
// gives up (RFC 8489 6.2.1, unchanged from RFC 5389 7.2.1): the first request
// at once, then after RTO, 2 RTO, 4 RTO, ... (each interval doubling), Rc
// requests in all, and a final wait of Rm * RTO after the last one. With
// RTO 500 ms, Rc 7, Rm 16: requests at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s,
// failure at 39.5 s.
//
// Split out so the schedule is a pure function and the timer that walks it
// runs on any TimerFactory: tests check both on simulated time.
#ifndef SIPRESOLVER_LIB_NAT_STUN_SCHEDULE_H_
#define SIPRESOLVER_LIB_NAT_STUN_SCHEDULE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/core/timer.h"

namespace sipresolver::nat {

struct StunOptions {
  // The initial retransmission timeout (RFC 8489: 500 ms by default; a
  // client that knows the path's RTT may use less). Tests shorten it.
  absl::Duration rto = absl::Milliseconds(500);
  int rc = 7;   // Requests sent in all (the first and Rc-1 retransmissions).
  int rm = 16;  // The last wait, in units of RTO.
  // SOFTWARE in each request ("" = none), e.g. "sipresolver/0.1".
  std::string software;
  // FINGERPRINT in each request: lets servers that multiplex STUN with SIP
  // on one port (RFC 5626 keep-alives) tell the two apart.
  bool fingerprint = true;
};

// INVALID_ARGUMENT naming the field: rto outside [1 ms, 60 s], rc outside
// [1, 16], rm outside [1, 64], software longer than 763 bytes.
absl::Status ValidateStunOptions(const StunOptions& options);

// The send times of the Rc requests, relative to the first (which is 0).
// Options are expected to be valid.
std::vector<absl::Duration> RetransmitSchedule(const StunOptions& options);
// When the transaction fails without an answer: the last send + Rm * RTO.
absl::Duration TransactionTimeout(const StunOptions& options);
// "7 requests at 0, 500ms, 1.5s, ..., 31.5s, given up at 39.5s (RTO 500ms,
// Rc 7, Rm 16)": for timeout messages.
std::string DescribeSchedule(const StunOptions& options);

// Walks the schedule for one transaction: `send(attempt)` for attempt 0 (at
// once, inside Start) to Rc-1, each at its time, then `give_up()` at the
// transaction timeout. Destroying it stops everything; neither callback runs
// after that. `give_up` may destroy the timer; `send` must not (report send
// errors asynchronously). Thread: that of the TimerFactory.
class RetransmitTimer {
 public:
  RetransmitTimer(TimerFactory& timers, const StunOptions& options,
                  absl::AnyInvocable<void(int attempt)> send,
                  absl::AnyInvocable<void()> give_up);
  ~RetransmitTimer();
  RetransmitTimer(const RetransmitTimer&) = delete;
  RetransmitTimer& operator=(const RetransmitTimer&) = delete;

  void Start();
  int sent() const { return sent_; }  // Requests sent so far.

 private:
  void Next();  // Sends request `sent_` and arms the timer for what follows.

  TimerFactory& timers_;
  std::vector<absl::Duration> schedule_;
  absl::Duration timeout_;
  absl::AnyInvocable<void(int)> send_;
  absl::AnyInvocable<void()> give_up_;
  std::unique_ptr<Timer> timer_;
  int sent_ = 0;
};

}  // namespace sipresolver::nat

#endif  // SIPRESOLVER_LIB_NAT_STUN_SCHEDULE_H_
