// RFC 8489 6.2.1 retransmissions for STUN over UDP (N2): the schedule as a
// pure function, and the timer that walks it, on a simulated clock.
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/clock.h"
#include "lib/core/timer.h"
#include "lib/nat/stun_schedule.h"

namespace sipresolver::nat {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::Duration Ms(int64_t ms) { return absl::Milliseconds(ms); }

TEST(StunScheduleTest, DefaultsFollowTheRfc) {
  const StunOptions defaults;
  EXPECT_EQ(defaults.rto, Ms(500));
  EXPECT_EQ(defaults.rc, 7);
  EXPECT_EQ(defaults.rm, 16);
  EXPECT_THAT(RetransmitSchedule(defaults),
              ElementsAre(Ms(0), Ms(500), Ms(1500), Ms(3500), Ms(7500),
                          Ms(15500), Ms(31500)));
  EXPECT_EQ(TransactionTimeout(defaults), Ms(39500));
  EXPECT_EQ(DescribeSchedule(defaults),
            "7 requests at 0, 500ms, 1.5s, 3.5s, 7.5s, 15.5s, 31.5s, given up "
            "at 39.5s (RTO 500ms, Rc 7, Rm 16)");
}

TEST(StunScheduleTest, ShortenedForTests) {
  StunOptions o;
  o.rto = Ms(20);
  o.rc = 4;
  o.rm = 4;
  EXPECT_THAT(RetransmitSchedule(o),
              ElementsAre(Ms(0), Ms(20), Ms(60), Ms(140)));
  EXPECT_EQ(TransactionTimeout(o), Ms(220));
  o.rc = 1;
  EXPECT_THAT(RetransmitSchedule(o), ElementsAre(Ms(0)));
  EXPECT_EQ(TransactionTimeout(o), Ms(80));
  EXPECT_THAT(DescribeSchedule(o), HasSubstr("1 request at 0,"));
}

TEST(StunScheduleTest, ValidationNamesTheField) {
  auto check = [](StunOptions o, const char* field) {
    absl::Status s = ValidateStunOptions(o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(field));
  };
  EXPECT_TRUE(ValidateStunOptions({}).ok());
  StunOptions o;
  o.rto = absl::ZeroDuration();
  check(o, "rto");
  o = {};
  o.rto = absl::Minutes(2);
  check(o, "rto");
  o = {};
  o.rc = 0;
  check(o, "rc");
  o.rc = 17;
  check(o, "rc");
  o = {};
  o.rm = 0;
  check(o, "rm");
  o = {};
  o.software = std::string(800, 'x');
  check(o, "software");
  // The largest allowed schedule stays finite.
  o = {};
  o.rto = absl::Seconds(60);
  o.rc = 16;
  o.rm = 64;
  EXPECT_TRUE(ValidateStunOptions(o).ok());
  EXPECT_LT(TransactionTimeout(o), absl::Hours(24 * 60));
}

class RetransmitTimerTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  SimulatedTimers timers_{clock_};
  absl::Time start_ = clock_.Now();
  std::vector<absl::Duration> sends_;
  std::vector<int> attempts_;
  std::vector<absl::Duration> give_ups_;

  std::unique_ptr<RetransmitTimer> Make(const StunOptions& o) {
    return std::make_unique<RetransmitTimer>(
        timers_, o,
        [this](int attempt) {
          sends_.push_back(clock_.Now() - start_);
          attempts_.push_back(attempt);
        },
        [this] { give_ups_.push_back(clock_.Now() - start_); });
  }
};

TEST_F(RetransmitTimerTest, SendsOnScheduleThenGivesUp) {
  auto timer = Make({});
  timer->Start();
  EXPECT_THAT(sends_, ElementsAre(Ms(0)));  // The first at once.
  timers_.Advance(Ms(39499));
  EXPECT_THAT(sends_, ElementsAre(Ms(0), Ms(500), Ms(1500), Ms(3500), Ms(7500),
                                  Ms(15500), Ms(31500)));
  EXPECT_THAT(attempts_, ElementsAre(0, 1, 2, 3, 4, 5, 6));
  EXPECT_EQ(timer->sent(), 7);
  EXPECT_TRUE(give_ups_.empty());
  timers_.Advance(Ms(1));
  EXPECT_THAT(give_ups_, ElementsAre(Ms(39500)));
  timers_.Advance(absl::Hours(1));
  EXPECT_EQ(sends_.size(), 7u);
  EXPECT_EQ(give_ups_.size(), 1u);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(RetransmitTimerTest, DestroyingItStopsEverything) {
  auto timer = Make({});
  timer->Start();
  timers_.Advance(Ms(600));
  EXPECT_EQ(sends_.size(), 2u);
  timer.reset();
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.Advance(absl::Minutes(1));
  EXPECT_EQ(sends_.size(), 2u);
  EXPECT_TRUE(give_ups_.empty());
}

TEST_F(RetransmitTimerTest, GiveUpMayDestroyTheTimer) {
  StunOptions o;
  o.rto = Ms(20);
  o.rc = 2;
  o.rm = 1;
  std::unique_ptr<RetransmitTimer> timer;
  bool gave_up = false;
  timer = std::make_unique<RetransmitTimer>(
      timers_, o, [](int) {},
      [&] {
        timer.reset();  // What a client does when the transaction ends.
        gave_up = true;
      });
  timer->Start();
  timers_.Advance(Ms(40));
  EXPECT_TRUE(gave_up);
  EXPECT_EQ(timer, nullptr);
}

}  // namespace
}  // namespace sipresolver::nat
