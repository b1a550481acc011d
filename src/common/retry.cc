#include "common/retry.h"

#include <mutex>

namespace bikestream {
namespace {

TimestampMicros UniformUpTo(TimestampMicros bound) {
  static std::mutex mutex;
  static std::mt19937_64 random{std::random_device{}()};
  std::lock_guard lock(mutex);
  return std::uniform_int_distribution<TimestampMicros>(0, bound)(random);
}

}  // namespace

TimestampMicros Backoff::NextDelay() {
  const TimestampMicros backoff = next_;
  next_ = std::min(next_ * 2, policy_.max_backoff);
  return policy_.jitter ? UniformUpTo(backoff) : backoff;
}

}  // namespace bikestream
