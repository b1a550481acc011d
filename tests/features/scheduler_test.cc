// The scheduler on a fake clock: tick alignment, retries, backfill ranges, no sleeping.
#include "features/scheduler.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace bikestream {
namespace {

using testing_support::FakeClock;

TimestampMicros At(const char* text) { return *ParseRfc3339(text); }

TEST(Scheduler, ComputesTheCurrentTickThenEachAlignedTick) {
  FakeClock clock(At("2025-11-16T10:07:30Z"), FakeClock::Mode::kJumping);
  std::vector<TimestampMicros> computed;
  std::atomic<bool> stop = false, run_now = false;
  Scheduler scheduler(
      clock, {.every = 15 * kMicrosPerMinute},
      [&](TimestampMicros as_of) {
        computed.push_back(as_of);
        if (computed.size() == 4) stop = true;
        return absl::OkStatus();
      },
      [](const std::string&) {});
  scheduler.Run(stop, run_now);
  EXPECT_EQ(computed,
            (std::vector<TimestampMicros>{At("2025-11-16T10:00:00Z"), At("2025-11-16T10:15:00Z"),
                                          At("2025-11-16T10:30:00Z"), At("2025-11-16T10:45:00Z")}));
}

TEST(Scheduler, AFailedTickIsLoggedAndRetriedWithBackoffNeverKillingIt) {
  FakeClock clock(At("2025-11-16T10:00:00Z"), FakeClock::Mode::kJumping);
  std::vector<std::pair<TimestampMicros, TimestampMicros>> attempts;  // (as_of, when)
  std::vector<std::string> logged;
  std::atomic<bool> stop = false, run_now = false;
  int failures_left = 2;
  Scheduler scheduler(
      clock, {.every = 15 * kMicrosPerMinute, .initial_backoff = kMicrosPerSecond},
      [&](TimestampMicros as_of) {
        attempts.emplace_back(as_of, clock.Now());
        if (as_of == At("2025-11-16T10:15:00Z") && failures_left-- > 0) {
          return absl::UnavailableError("warehouse busy");
        }
        if (as_of == At("2025-11-16T10:30:00Z")) stop = true;
        return absl::OkStatus();
      },
      [&](const std::string& line) { logged.push_back(line); });
  scheduler.Run(stop, run_now);
  ASSERT_EQ(attempts.size(), 5u);
  EXPECT_EQ(attempts[1], std::pair(At("2025-11-16T10:15:00Z"), At("2025-11-16T10:15:00Z")));
  EXPECT_EQ(attempts[2], std::pair(At("2025-11-16T10:15:00Z"), At("2025-11-16T10:15:01Z")));
  EXPECT_EQ(attempts[3], std::pair(At("2025-11-16T10:15:00Z"), At("2025-11-16T10:15:03Z")));
  EXPECT_EQ(attempts[4].first, At("2025-11-16T10:30:00Z"));
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_NE(logged[0].find("2025-11-16T10:15:00Z failed"), std::string::npos);
  EXPECT_NE(logged[0].find("warehouse busy"), std::string::npos);
}

TEST(Scheduler, RunNowComputesTheCurrentTickAtOnce) {
  FakeClock clock(At("2025-11-16T10:07:30Z"), FakeClock::Mode::kJumping);
  std::vector<TimestampMicros> computed;
  std::atomic<bool> stop = false, run_now = true;
  Scheduler scheduler(
      clock, {.every = 15 * kMicrosPerMinute},
      [&](TimestampMicros as_of) {
        computed.push_back(as_of);
        if (computed.size() == 2) stop = true;
        return absl::OkStatus();
      },
      [](const std::string&) {});
  scheduler.Run(stop, run_now);
  EXPECT_EQ(computed,
            (std::vector<TimestampMicros>{At("2025-11-16T10:00:00Z"), At("2025-11-16T10:00:00Z")}));
  EXPECT_EQ(clock.Now(), At("2025-11-16T10:07:30Z"));  // Neither waited for a tick.
}

TEST(Ticks, AreAlignedToTheClockAndInclusive) {
  EXPECT_EQ(FloorToTick(At("2025-11-16T10:14:59Z"), 15 * kMicrosPerMinute),
            At("2025-11-16T10:00:00Z"));
  EXPECT_EQ(FloorToTick(At("2025-11-16T10:15:00Z"), 15 * kMicrosPerMinute),
            At("2025-11-16T10:15:00Z"));
  EXPECT_EQ(FloorToTick(At("1969-12-31T23:59:00Z"), 15 * kMicrosPerMinute),
            At("1969-12-31T23:45:00Z"));
  auto ticks =
      TicksBetween(At("2025-11-16T10:01:00Z"), At("2025-11-16T11:00:00Z"), 15 * kMicrosPerMinute);
  EXPECT_EQ(ticks,
            (std::vector<TimestampMicros>{At("2025-11-16T10:15:00Z"), At("2025-11-16T10:30:00Z"),
                                          At("2025-11-16T10:45:00Z"), At("2025-11-16T11:00:00Z")}));
  EXPECT_EQ(
      TicksBetween(At("2025-11-16T00:00:00Z"), At("2025-11-17T00:00:00Z"), 15 * kMicrosPerMinute)
          .size(),
      97u);
}

}  // namespace
}  // namespace bikestream
