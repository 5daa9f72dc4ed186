#include "lib/core/event_loop.h"

#include <future>

#include "asio/post.hpp"
#include "asio/steady_timer.hpp"

namespace sipresolver {

EventLoop::EventLoop() : work_(asio::make_work_guard(io_)) {}

EventLoop::~EventLoop() { Stop(); }

void EventLoop::Start() {
  thread_ = std::thread([this] { io_.run(); });
}

void EventLoop::Stop() {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Post(std::function<void()> fn) {
  asio::post(io_, std::move(fn));
}

void EventLoop::RunSync(const std::function<void()>& fn) {
  if (!thread_.joinable()) return fn();  // Not running: nobody to race with.
  std::promise<void> done;
  Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

namespace {

// Cancels on destruction. The callback also checks `alive`, because a timer
// that already fired may have its handler queued when the handle goes away.
class AsioTimer : public Timer {
 public:
  AsioTimer(asio::io_context& io, absl::Duration delay,
            absl::AnyInvocable<void()> fn)
      : timer_(io, absl::ToChronoNanoseconds(
                       std::max(delay, absl::ZeroDuration()))),
        alive_(std::make_shared<bool>(true)) {
    timer_.async_wait([alive = alive_,
                       fn = std::move(fn)](const asio::error_code& ec) mutable {
      if (!ec && *alive) fn();
    });
  }
  // asio's cancel() throws only when the reactor itself fails; terminating
  // is right then.
  // NOLINTNEXTLINE(bugprone-exception-escape)
  ~AsioTimer() override {
    *alive_ = false;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> alive_;
};

}  // namespace

std::unique_ptr<Timer> EventLoop::After(absl::Duration delay,
                                        absl::AnyInvocable<void()> fn) {
  return std::make_unique<AsioTimer>(io_, delay, std::move(fn));
}

bool EventLoop::InLoopThread() const {
  return std::this_thread::get_id() == thread_.get_id();
}

}  // namespace sipresolver
