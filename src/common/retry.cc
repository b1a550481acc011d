#include "common/retry.h"

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/mutex.h"
#include "common/print.h"
#include "common/status.h"

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

std::function<void(const absl::Status&, DurationMicros, DurationMicros)> ReportRetries(
    std::string remote, DurationMicros max_duration) {
  constexpr DurationMicros kBetweenLines = 10 * kMicrosPerSecond;
  auto last_line = std::make_shared<std::optional<TimestampMicros>>();
  return [remote = std::move(remote), max_duration, last_line](
             const absl::Status& why, DurationMicros delay, DurationMicros elapsed) {
    if (why.code() == absl::StatusCode::kAborted) return;  // A race lost between workers: routine.
    // A new retry loop starts again at 0: its first retry is worth a line too.
    if (*last_line && elapsed >= **last_line && elapsed - **last_line < kBetweenLines) return;
    *last_line = elapsed;
    Print(stderr, "{}: {}; retrying in {:.1f} s{}\n", remote, MessageOf(why),
          double(delay) / kMicrosPerSecond,
          max_duration > 0 ? fmt::format(" (gives up after {} s of trying; Ctrl-C stops)",
                                         max_duration / kMicrosPerSecond)
                           : std::string(" (Ctrl-C stops)"));
  };
}

DurationMicros Backoff::NextDelay() {
  const DurationMicros backoff = next_;
  next_ = std::min(next_ * 2, policy_.max_backoff);
  return policy_.jitter ? UniformUpTo(backoff) : backoff;
}

}  // namespace bikestream
