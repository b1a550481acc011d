#include "features/scheduler.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/status.h"

namespace bikestream {

TimestampMicros FloorToTick(TimestampMicros t, DurationMicros every) {
  TimestampMicros floored = t - t % every;
  return t % every < 0 ? floored - every : floored;
}

std::vector<TimestampMicros> TicksBetween(TimestampMicros from, TimestampMicros to,
                                          DurationMicros every) {
  std::vector<TimestampMicros> ticks;
  TimestampMicros tick = FloorToTick(from, every);
  if (tick < from) tick += every;
  for (; tick <= to; tick += every) ticks.push_back(tick);
  return ticks;
}

Scheduler::Scheduler(Clock& clock, SchedulerOptions options, Compute compute, Log log)
    : clock_(clock), options_(options), compute_(std::move(compute)), log_(std::move(log)) {}

void Scheduler::Run(const std::atomic<bool>& stop, std::atomic<bool>& run_now) {
  std::deque<TimestampMicros> due = {FloorToTick(clock_.Now(), options_.every)};
  TimestampMicros next_tick = due.back() + options_.every;
  DurationMicros backoff = options_.initial_backoff;
  TimestampMicros retry_at = 0;
  while (!stop) {
    if (run_now.exchange(false)) due.push_front(FloorToTick(clock_.Now(), options_.every));
    const TimestampMicros now = clock_.Now();
    if (now >= next_tick) {
      due.push_back(FloorToTick(now, options_.every));
      next_tick = due.back() + options_.every;
    }
    if (!due.empty() && now >= retry_at) {
      const TimestampMicros as_of = due.front();
      if (absl::Status status = compute_(as_of); status.ok()) {
        due.pop_front();
        backoff = options_.initial_backoff;
        retry_at = 0;
      } else {
        log_(fmt::format("tick {} failed, retrying in {} s: {}", FormatRfc3339(as_of),
                         backoff / kMicrosPerSecond, MessageOf(status)));
        retry_at = now + backoff;
        backoff = std::min(backoff * 2, options_.max_backoff);
      }
      continue;
    }
    const TimestampMicros wake_at = due.empty() ? next_tick : std::min(next_tick, retry_at);
    clock_.SleepUntil(wake_at, [&] { return stop.load() || run_now.load(); });
  }
}

}  // namespace bikestream
