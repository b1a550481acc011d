// Locking an absl::Mutex so that ThreadSanitizer sees it.
//
// Debian's Abseil is built without ThreadSanitizer, so TSan sees neither absl::Mutex's lock nor
// its unlock and would report a race on everything a mutex guards. MutexLock and the waits
// below lock, unlock and wait as Abseil's own do and, under TSan (scripts/test-tsan.sh), also
// tell it that an unlock happens before the next lock. Lock an absl::Mutex through them, never
// through absl::MutexLock or Mutex::Lock() directly: TSan would then report false races.
//
// The clang thread-safety analysis (-Wthread-safety) checks ABSL_GUARDED_BY through them as
// through absl::MutexLock.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#if defined(__SANITIZE_THREAD__)
#define BIKESTREAM_TSAN_ANNOTATIONS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BIKESTREAM_TSAN_ANNOTATIONS 1
#endif
#endif

#ifdef BIKESTREAM_TSAN_ANNOTATIONS
#include <sanitizer/tsan_interface.h>
#endif

namespace bikestream {
namespace mutex_internal {

// After a lock: whatever the last holder did is visible.
inline void Acquired([[maybe_unused]] absl::Mutex* mutex) {
#ifdef BIKESTREAM_TSAN_ANNOTATIONS
  __tsan_acquire(mutex);
#endif
}

// Before an unlock: what this holder did becomes visible to the next one.
inline void Releasing([[maybe_unused]] absl::Mutex* mutex) {
#ifdef BIKESTREAM_TSAN_ANNOTATIONS
  __tsan_release(mutex);
#endif
}

}  // namespace mutex_internal

// Holds `mutex` for its scope, as absl::MutexLock.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(absl::Mutex* mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_->Lock();
    mutex_internal::Acquired(mutex_);
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {
    mutex_internal::Releasing(mutex_);
    mutex_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  absl::Mutex* const mutex_;
};

// condition.Wait(mutex): the wait unlocks `mutex` and locks it again before it returns.
inline void Wait(absl::CondVar& condition, absl::Mutex* mutex)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
  mutex_internal::Releasing(mutex);
  condition.Wait(mutex);
  mutex_internal::Acquired(mutex);
}

// condition.WaitWithTimeout(mutex, timeout): true when it timed out.
inline bool WaitWithTimeout(absl::CondVar& condition, absl::Mutex* mutex, absl::Duration timeout)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
  mutex_internal::Releasing(mutex);
  const bool timed_out = condition.WaitWithTimeout(mutex, timeout);
  mutex_internal::Acquired(mutex);
  return timed_out;
}

// condition.WaitWithDeadline(mutex, deadline): true when the deadline passed.
inline bool WaitWithDeadline(absl::CondVar& condition, absl::Mutex* mutex, absl::Time deadline)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
  mutex_internal::Releasing(mutex);
  const bool timed_out = condition.WaitWithDeadline(mutex, deadline);
  mutex_internal::Acquired(mutex);
  return timed_out;
}

}  // namespace bikestream
