// A clock for tests that moves only when told, so time-driven code runs without sleeping.
//
// Manual (the default): Advance() moves the time and wakes the sleepers whose deadline it
// passed; a sleeper also wakes when its wake condition turns true. For threaded code (the
// streaming runner): the test advances the time and waits for the effect.
// Jumping: SleepUntil() moves the time straight to the deadline. For single-threaded code
// (the scheduler, retries): every wait is taken at once and can be read back from sleeps().
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "common/clock.h"

namespace bikestream::testing_support {

class FakeClock final : public Clock {
 public:
  enum class Mode { kManual, kJumping };
  explicit FakeClock(TimestampMicros start = 0, Mode mode = Mode::kManual)
      : now_(start), mode_(mode) {}

  TimestampMicros Now() override {
    std::lock_guard lock(mutex_);
    return now_;
  }

  void SleepUntil(TimestampMicros deadline, const std::function<bool()>& wake) override {
    std::unique_lock lock(mutex_);
    sleeps_.push_back(deadline - now_);
    if (mode_ == Mode::kJumping) {
      lock.unlock();
      if (!wake()) Jump(deadline);
      return;
    }
    ++sleepers_;
    while (now_ < deadline) {
      lock.unlock();
      const bool woken = wake();
      lock.lock();
      if (woken) break;
      // The wake condition is not ours to be told about: look again soon.
      moved_.wait_for(lock, std::chrono::milliseconds(1));
    }
    --sleepers_;
  }

  // Sets the time, forward or back (a test that stages instants of its own), and wakes sleepers.
  void Set(TimestampMicros now) {
    {
      std::lock_guard lock(mutex_);
      now_ = now;
    }
    moved_.notify_all();
  }

  void Advance(DurationMicros duration) {
    {
      std::lock_guard lock(mutex_);
      now_ += duration;
    }
    moved_.notify_all();
  }

  // The durations asked for, in order.
  std::vector<TimestampMicros> sleeps() {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

  // Threads asleep in SleepUntil now.
  int sleepers() {
    std::lock_guard lock(mutex_);
    return sleepers_;
  }

 private:
  void Jump(TimestampMicros to) {
    std::lock_guard lock(mutex_);
    if (to > now_) now_ = to;
  }

  std::mutex mutex_;
  std::condition_variable moved_;
  TimestampMicros now_;
  const Mode mode_;
  int sleepers_ = 0;
  std::vector<TimestampMicros> sleeps_;
};

}  // namespace bikestream::testing_support
