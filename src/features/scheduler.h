// Runs a computation at every tick of a fixed interval aligned to the clock (multiples of the
// interval since the epoch, as Cloud Scheduler's `*/15 * * * *`). A tick that fails is logged
// and retried with backoff, in order, while later ticks queue behind it; nothing stops the
// scheduler but its stop flag. Time goes through a `Clock`, so tests run without sleeping.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "event/timestamp.h"

namespace bikestream {

// The latest tick at or before `t`.
TimestampMicros FloorToTick(TimestampMicros t, DurationMicros every);

// Every tick in [from, to], in order.
std::vector<TimestampMicros> TicksBetween(TimestampMicros from, TimestampMicros to,
                                          DurationMicros every);

struct SchedulerOptions {
  DurationMicros every = 15 * 60 * kMicrosPerSecond;      // Default: 15 minutes.
  DurationMicros initial_backoff = 1 * kMicrosPerSecond;  // Doubling after each failure...
  DurationMicros max_backoff = 60 * kMicrosPerSecond;     // ...up to this.
};

class Scheduler {
 public:
  using Compute = std::function<absl::Status(TimestampMicros as_of)>;
  using Log = std::function<void(const std::string&)>;

  Scheduler(Clock& clock, SchedulerOptions options, Compute compute, Log log);

  // Computes the current tick at once, then each tick as it comes, until `stop`. When
  // `run_now` is set, computes the current tick again at once and clears it.
  void Run(const std::atomic<bool>& stop, std::atomic<bool>& run_now);

 private:
  Clock& clock_;
  SchedulerOptions options_;
  Compute compute_;
  Log log_;
};

}  // namespace bikestream
