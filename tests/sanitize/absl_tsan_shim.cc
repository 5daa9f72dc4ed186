// Tells TSan about the happens-before edges of absl's synchronization
// primitives, which live in the uninstrumented Debian libabsl. Each entry
// point is interposed (the preloaded shim comes first in symbol lookup, also
// for libabsl's own calls, which go through its PLT), forwards to the real
// one found with dlsym(RTLD_NEXT), and releases before / acquires after on
// the primitive's address. Readers are treated like
// writers: that can only hide a race between two readers, never invent one.
// The TSan hooks are weak: in a process without TSan (dnsmasq, Kamailio
// started by tests) the shim only forwards.
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

namespace {

void Acquire(const void* p) {
  if (__tsan_acquire) __tsan_acquire(const_cast<void*>(p));
}
void Release(const void* p) {
  if (__tsan_release) __tsan_release(const_cast<void*>(p));
}

// absl evaluates a Condition with the Mutex held, but inside the library: in
// Await/LockWhen after re-taking it internally, or in the thread whose Unlock
// wakes the waiter. Those acquisitions are invisible, so each wrapper notes
// its Mutex for the duration of the real call, and Condition::Eval acquires
// that Mutex (and the Condition, which the waiter released) before evaluating
// and releases the Mutex after.
thread_local absl::Mutex* tls_mutex = nullptr;
struct InMutex {
  explicit InMutex(absl::Mutex* mu) : saved(tls_mutex) { tls_mutex = mu; }
  ~InMutex() { tls_mutex = saved; }
  absl::Mutex* saved;
};

#define SHIM_STR2(x) #x
#define SHIM_STR(x) SHIM_STR2(x)

// `head` is "_ZN" or "_ZNK"; `tail` the mangled rest after absl's inline
// namespace (e.g. "5Mutex4LockEv").
void* Lookup(const char* head, const char* tail) {
  const std::string ns = SHIM_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name =
      std::string(head) + "4absl" + std::to_string(ns.size()) + ns + tail;
  void* p = dlsym(RTLD_NEXT, name.c_str());
  if (p == nullptr) {
    std::fprintf(stderr, "tsan_absl_shim: %s not found\n", name.c_str());
    std::abort();
  }
  return p;
}

// The atomic flag Notification reads on its inline fast path.
const void* NotifiedFlag(const absl::Notification* n) {
  return reinterpret_cast<const char*>(n) + sizeof(absl::Mutex);
}
static_assert(sizeof(absl::Notification) >=
                  sizeof(absl::Mutex) + sizeof(std::atomic<bool>),
              "absl::Notification layout: Mutex, then atomic<bool>");

}  // namespace

#define REAL(head, tail, ret, ...) \
  static auto real = reinterpret_cast<ret (*)(__VA_ARGS__)>(Lookup(head, tail))

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  REAL("_ZN", "5Mutex4LockEv", void, Mutex*);
  InMutex in_mutex(this);
  real(this);
  Acquire(this);
}
void Mutex::ReaderLock() {
  REAL("_ZN", "5Mutex10ReaderLockEv", void, Mutex*);
  InMutex in_mutex(this);
  real(this);
  Acquire(this);
}
bool Mutex::TryLock() {
  REAL("_ZN", "5Mutex7TryLockEv", bool, Mutex*);
  InMutex in_mutex(this);
  bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}
bool Mutex::ReaderTryLock() {
  REAL("_ZN", "5Mutex13ReaderTryLockEv", bool, Mutex*);
  InMutex in_mutex(this);
  bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}
void Mutex::Unlock() {
  REAL("_ZN", "5Mutex6UnlockEv", void, Mutex*);
  InMutex in_mutex(this);
  Release(this);
  real(this);
}
void Mutex::ReaderUnlock() {
  REAL("_ZN", "5Mutex12ReaderUnlockEv", void, Mutex*);
  InMutex in_mutex(this);
  Release(this);
  real(this);
}
void Mutex::LockWhen(const Condition& cond) {
  REAL("_ZN", "5Mutex8LockWhenERKNS0_9ConditionE", void, Mutex*,
       const Condition&);
  InMutex in_mutex(this);
  Release(&cond);  // Another thread may evaluate it.
  real(this, cond);
  Acquire(this);
}
bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  REAL("_ZN", "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE", bool,
       Mutex*, const Condition&, absl::Time);
  InMutex in_mutex(this);
  Release(&cond);  // Another thread may evaluate it.
  bool r = real(this, cond, deadline);
  Acquire(this);
  return r;
}
bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  REAL("_ZN", "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE",
       bool, Mutex*, const Condition&, absl::Duration);
  InMutex in_mutex(this);
  Release(&cond);  // Another thread may evaluate it.
  bool r = real(this, cond, timeout);
  Acquire(this);
  return r;
}
void Mutex::Await(const Condition& cond) {
  REAL("_ZN", "5Mutex5AwaitERKNS0_9ConditionE", void, Mutex*, const Condition&);
  InMutex in_mutex(this);
  Release(&cond);  // Another thread may evaluate it.
  Release(this);
  real(this, cond);
  Acquire(this);
}
bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  REAL("_ZN", "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE", bool,
       Mutex*, const Condition&, absl::Time);
  InMutex in_mutex(this);
  Release(&cond);  // Another thread may evaluate it.
  Release(this);
  bool r = real(this, cond, deadline);
  Acquire(this);
  return r;
}
bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  REAL("_ZN", "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE", bool,
       Mutex*, const Condition&, absl::Duration);
  InMutex in_mutex(this);
  Release(&cond);  // Another thread may evaluate it.
  Release(this);
  bool r = real(this, cond, timeout);
  Acquire(this);
  return r;
}

bool Condition::Eval() const {
  REAL("_ZNK", "9Condition4EvalEv", bool, const Condition*);
  absl::Mutex* mu = tls_mutex;
  Acquire(this);  // Made (and released) by the waiter, maybe on another thread.
  if (mu != nullptr) Acquire(mu);
  bool r = real(this);
  if (mu != nullptr) Release(mu);
  return r;
}

void CondVar::Wait(Mutex* mu) {
  REAL("_ZN", "7CondVar4WaitEPNS0_5MutexE", void, CondVar*, Mutex*);
  Release(mu);
  real(this, mu);
  Acquire(mu);
}
bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  REAL("_ZN", "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE", bool,
       CondVar*, Mutex*, absl::Duration);
  Release(mu);
  bool r = real(this, mu, timeout);
  Acquire(mu);
  return r;
}
bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  REAL("_ZN", "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE", bool,
       CondVar*, Mutex*, absl::Time);
  Release(mu);
  bool r = real(this, mu, deadline);
  Acquire(mu);
  return r;
}

void Notification::Notify() {
  REAL("_ZN", "12Notification6NotifyEv", void, Notification*);
  Release(this);
  Release(NotifiedFlag(this));
  real(this);
}
void Notification::WaitForNotification() const {
  REAL("_ZNK", "12Notification19WaitForNotificationEv", void,
       const Notification*);
  real(this);
  Acquire(this);
}
bool Notification::WaitForNotificationWithTimeout(
    absl::Duration timeout) const {
  REAL("_ZNK", "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE",
       bool, const Notification*, absl::Duration);
  bool r = real(this, timeout);
  if (r) Acquire(this);
  return r;
}
bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  REAL("_ZNK", "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE",
       bool, const Notification*, absl::Time);
  bool r = real(this, deadline);
  if (r) Acquire(this);
  return r;
}

ABSL_NAMESPACE_END
}  // namespace absl
