// The one retry loop, on a fake clock: what it retries, how long it waits, when it gives up.
#include "common/retry.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace bikestream {
namespace {

using testing_support::FakeClock;

bool Always(const absl::Status&) { return true; }
bool OnlyUnavailable(const absl::Status& s) { return s.code() == absl::StatusCode::kUnavailable; }

TEST(Retry, WaitsDoublingBackoffsUpToTheMaximumUntilSuccess) {
  FakeClock clock(0, FakeClock::Mode::kJumping);
  int calls = 0;
  const absl::Status status =
      Retry(clock, {.initial_backoff = 100, .max_backoff = 300, .jitter = false}, Always,
            [&] { return ++calls < 5 ? absl::UnavailableError("down") : absl::OkStatus(); });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(clock.sleeps(), (std::vector<TimestampMicros>{100, 200, 300, 300}));
}

TEST(Retry, JitterWaitsAtMostTheBackoff) {
  FakeClock clock(0, FakeClock::Mode::kJumping);
  int calls = 0;
  Retry(clock, {.initial_backoff = 1000, .max_backoff = 4000, .max_attempts = 4}, Always, [&] {
    ++calls;
    return absl::UnavailableError("down");
  }).IgnoreError();
  EXPECT_EQ(calls, 4);
  const std::vector<TimestampMicros> bounds = {1000, 2000, 4000};
  ASSERT_EQ(clock.sleeps().size(), bounds.size());
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    EXPECT_GE(clock.sleeps()[i], 0);
    EXPECT_LE(clock.sleeps()[i], bounds[i]);
  }
}

TEST(Retry, ReturnsAnErrorItMayNotRetryAtOnce) {
  FakeClock clock(0, FakeClock::Mode::kJumping);
  int calls = 0;
  const absl::StatusOr<int> result =
      Retry(clock, {}, OnlyUnavailable, [&]() -> absl::StatusOr<int> {
        ++calls;
        return absl::NotFoundError("gone");
      });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(Retry, GivesUpWhenTheNextWaitWouldPassTheMaximumDuration) {
  FakeClock clock(0, FakeClock::Mode::kJumping);
  int calls = 0;
  const absl::Status status = Retry(
      clock, {.initial_backoff = 100, .max_backoff = 1000, .jitter = false, .max_duration = 1000},
      Always, [&] {
        ++calls;
        return absl::UnavailableError("down");
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  // Waits of 100, 200 and 400 end at 700; the next, 800, would end past 1000.
  EXPECT_EQ(clock.sleeps(), (std::vector<TimestampMicros>{100, 200, 400}));
  EXPECT_EQ(calls, 4);
}

}  // namespace
}  // namespace bikestream
