#include "lib/nat/stun_schedule.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/nat/stun_message.h"

namespace sipresolver::nat {

absl::Status ValidateStunOptions(const StunOptions& options) {
  if (options.rto < absl::Milliseconds(1) || options.rto > absl::Seconds(60)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rto: ", absl::FormatDuration(options.rto), " is outside [1ms, 60s]"));
  }
  // The bounds keep the doubling finite and the schedule printable.
  if (options.rc < 1 || options.rc > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("rc: ", options.rc, " is outside [1, 16]"));
  }
  if (options.rm < 1 || options.rm > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("rm: ", options.rm, " is outside [1, 64]"));
  }
  if (options.software.size() > kStunMaxTextSize) {
    return absl::InvalidArgumentError(
        "software: longer than the 763 bytes STUN allows (RFC 8489 14.14)");
  }
  return absl::OkStatus();
}

std::vector<absl::Duration> RetransmitSchedule(const StunOptions& options) {
  std::vector<absl::Duration> at;
  absl::Duration t = absl::ZeroDuration();
  absl::Duration interval = options.rto;
  for (int i = 0; i < options.rc; ++i) {
    at.push_back(t);
    t += interval;
    interval *= 2;
  }
  return at;
}

absl::Duration TransactionTimeout(const StunOptions& options) {
  const std::vector<absl::Duration> at = RetransmitSchedule(options);
  const absl::Duration last = at.empty() ? absl::ZeroDuration() : at.back();
  return last + options.rm * options.rto;
}

std::string DescribeSchedule(const StunOptions& options) {
  return absl::StrCat(
      options.rc, options.rc == 1 ? " request at " : " requests at ",
      absl::StrJoin(RetransmitSchedule(options), ", ",
                    [](std::string* out, absl::Duration d) {
                      absl::StrAppend(out, absl::FormatDuration(d));
                    }),
      ", given up at ", absl::FormatDuration(TransactionTimeout(options)),
      " (RTO ", absl::FormatDuration(options.rto), ", Rc ", options.rc, ", Rm ",
      options.rm, ")");
}

RetransmitTimer::RetransmitTimer(TimerFactory& timers,
                                 const StunOptions& options,
                                 absl::AnyInvocable<void(int attempt)> send,
                                 absl::AnyInvocable<void()> give_up)
    : timers_(timers),
      schedule_(RetransmitSchedule(options)),
      timeout_(TransactionTimeout(options)),
      send_(std::move(send)),
      give_up_(std::move(give_up)) {}

RetransmitTimer::~RetransmitTimer() = default;

void RetransmitTimer::Start() {
  if (sent_ == 0 && !schedule_.empty()) Next();
}

void RetransmitTimer::Next() {
  const int attempt = sent_++;
  send_(attempt);
  const bool last = sent_ >= static_cast<int>(schedule_.size());
  const absl::Duration wait =
      (last ? timeout_ : schedule_[sent_]) - schedule_[attempt];
  // The timer is ours, so its callback never runs after we are gone.
  timer_ = timers_.After(wait, [this, last] {
    if (!last) return Next();
    // Moved out first: give_up may destroy us, and with us the member.
    absl::AnyInvocable<void()> give_up = std::move(give_up_);
    give_up();
  });
}

}  // namespace sipresolver::nat
