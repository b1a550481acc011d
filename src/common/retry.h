// Retry with exponential backoff: the one loop through which every client retries (Pub/Sub,
// PostgreSQL, and the Google Cloud clients after them). Waits go through the injected clock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace bikestream {

struct RetryPolicy {
  DurationMicros initial_backoff = 100 * kMicrosPerMilli;  // Default: 100 ms, doubling...
  DurationMicros max_backoff = 10 * kMicrosPerSecond;      // ...up to 10 s.
  // Full jitter (a random wait up to the backoff), so that retrying clients spread out.
  bool jitter = true;               // Default: on.
  int max_attempts = 0;             // Give up after this many calls. Default: 0, no limit.
  DurationMicros max_duration = 0;  // Give up when the next wait would end past this long
                                    // after the first call. Default: 0, no limit.
  // Called before each wait with the error that is retried, the wait and the time since the
  // first call: so that a person waiting on an unreachable server hears of it. Default: none.
  std::function<void(const absl::Status& why, DurationMicros delay, DurationMicros elapsed)>
      on_retry;
};

// An on_retry that prints to stderr, for `remote` (e.g. "BigQuery at https://…", secrets
// masked by the caller): the first retry, then at most one line every 10 s of retrying, each
// saying why, and how long it goes on before giving up.
std::function<void(const absl::Status&, DurationMicros, DurationMicros)> ReportRetries(
    std::string remote, DurationMicros max_duration);

// The waits of one retry loop.
class Backoff {
 public:
  explicit Backoff(const RetryPolicy& policy) : policy_(policy), next_(policy.initial_backoff) {}

  // How long to wait before the next attempt.
  DurationMicros NextDelay();

 private:
  RetryPolicy policy_;
  DurationMicros next_;
};

namespace retry_internal {
inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}
}  // namespace retry_internal

// Calls `attempt` until it succeeds, fails with an error that `retryable` rejects, or the
// policy runs out; returns the last result. `attempt` returns absl::Status or absl::StatusOr.
template <typename Attempt>
std::invoke_result_t<Attempt> Retry(Clock& clock, const RetryPolicy& policy,
                                    const std::function<bool(const absl::Status&)>& retryable,
                                    Attempt attempt) {
  Backoff backoff(policy);
  const TimestampMicros start = clock.Now();
  for (int calls = 1;; ++calls) {
    auto result = attempt();
    const absl::Status& status = retry_internal::StatusOf(result);
    if (status.ok() || !retryable(status)) return result;
    if (policy.max_attempts > 0 && calls >= policy.max_attempts) return result;
    const DurationMicros delay = backoff.NextDelay();
    const DurationMicros elapsed = clock.Now() - start;
    if (policy.max_duration > 0 && elapsed + delay > policy.max_duration) return result;
    if (policy.on_retry) policy.on_retry(status, delay, elapsed);
    clock.SleepFor(delay);
  }
}

}  // namespace bikestream
