// Time and sleeping, injected (as LevelDB's Env): production code asks a `Clock`, tests pass a
// fake one (tests/support/fake_clock.h) and run without sleeping. Implementations are
// thread-safe.
#pragma once

#include <functional>

#include "common/time.h"

namespace bikestream {

class Clock {
 public:
  virtual ~Clock() = default;

  // The wall-clock time.
  virtual TimestampMicros Now() = 0;

  // Returns once Now() >= `deadline`, or earlier once `wake()` is true (polled often enough
  // that a stop request is seen promptly).
  virtual void SleepUntil(TimestampMicros deadline, const std::function<bool()>& wake) = 0;

  void SleepFor(DurationMicros duration, const std::function<bool()>& wake = Never) {
    SleepUntil(Now() + duration, wake);
  }

 private:
  static bool Never() { return false; }
};

// The system clock.
Clock& SystemClock();

}  // namespace bikestream
