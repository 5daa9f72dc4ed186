// EventLoop: the one I/O thread that owns c-ares, probe sockets and timers.
//
// Engine objects that are not thread-safe (resolver, cache) live on this
// thread; other threads hand work over with Post(). Built on Asio so sockets
// and timers come from a well-kept reactor instead of a hand-written one.
//
// Lifetime: Start() spawns the thread; Stop() (or the destructor) finishes the
// task being run, drops queued tasks and joins. Objects driven by the loop
// must be destroyed after Stop() or on the loop thread.
#ifndef SIPRESOLVER_LIB_CORE_EVENT_LOOP_H_
#define SIPRESOLVER_LIB_CORE_EVENT_LOOP_H_

#include <functional>
#include <optional>
#include <thread>

#include "asio/executor_work_guard.hpp"
#include "asio/io_context.hpp"
#include "lib/core/timer.h"

namespace sipresolver {

class EventLoop : public TimerFactory {
 public:
  EventLoop();
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void Start();
  void Stop();

  // Runs fn on the loop thread. Safe from any thread.
  void Post(std::function<void()> fn);
  // Runs fn on the loop thread and waits for it; runs it right here when the
  // loop is not running. Not from the loop thread.
  void RunSync(const std::function<void()>& fn);

  // TimerFactory, on Asio steady timers. Loop thread only.
  std::unique_ptr<Timer> After(absl::Duration delay,
                               absl::AnyInvocable<void()> fn) override;

  bool InLoopThread() const;
  asio::io_context& io_context() { return io_; }

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_;
  std::thread thread_;
};

}  // namespace sipresolver

#endif  // SIPRESOLVER_LIB_CORE_EVENT_LOOP_H_
