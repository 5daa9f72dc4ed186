// The shim's self-check (scripts/sanitize runs it before using the shim):
// correct absl::Mutex/Condition/Notification hand-offs must be silent under
// TSan with the shim preloaded, and a real race (argv[1] given) must still be
// reported.
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
absl::Mutex mu;
std::vector<int> queue;
int unguarded = 0;
int main(int argc, char**) {
  absl::Notification done;
  int handed = 0;
  std::thread producer([&] {
    for (int i = 0; i < 500; ++i) {
      absl::MutexLock lock(&mu);
      queue.push_back(i);
    }
    handed = 1;
    done.Notify();
  });
  std::thread consumer([&] {
    for (int i = 0; i < 500; ++i) {
      mu.LockWhen(absl::Condition(
          +[](std::vector<int>* q) { return !q->empty(); }, &queue));
      queue.pop_back();
      mu.Unlock();
    }
  });
  done.WaitForNotification();
  int seen = handed;
  producer.join();
  consumer.join();
  if (argc > 1) {
    std::thread a([] { ++unguarded; });
    std::thread b([] { ++unguarded; });
    a.join();
    b.join();
  }
  return seen == 1 ? 0 : 1;
}
