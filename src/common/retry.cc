#include "common/retry.h"

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/mutex.h"

namespace bikestream {
namespace {

TimestampMicros UniformUpTo(TimestampMicros bound) {
  // One engine for every thread's backoffs.
  struct Shared {
    absl::Mutex mutex;
    std::mt19937_64 random ABSL_GUARDED_BY(mutex){std::random_device{}()};
  };
  static Shared shared;
  MutexLock lock(&shared.mutex);
  return std::uniform_int_distribution<TimestampMicros>(0, bound)(shared.random);
}

}  // namespace

TimestampMicros Backoff::NextDelay() {
  const TimestampMicros backoff = next_;
  next_ = std::min(next_ * 2, policy_.max_backoff);
  return policy_.jitter ? UniformUpTo(backoff) : backoff;
}

}  // namespace bikestream
