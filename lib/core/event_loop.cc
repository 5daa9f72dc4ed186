#include "lib/core/event_loop.h"

#include <future>

#include "asio/post.hpp"

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

void EventLoop::Post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

void EventLoop::RunSync(const std::function<void()>& fn) {
  std::promise<void> done;
  Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

bool EventLoop::InLoopThread() const {
  return std::this_thread::get_id() == thread_.get_id();
}

}  // namespace sipresolver
