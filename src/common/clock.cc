#include "common/clock.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace bikestream {
namespace {

// How often a sleeper looks at its wake condition.
constexpr DurationMicros kWakePoll = 20 * kMicrosPerMilli;

class RealClock final : public Clock {
 public:
  TimestampMicros Now() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void SleepUntil(TimestampMicros deadline, const std::function<bool()>& wake) override {
    while (!wake()) {
      const TimestampMicros left = deadline - Now();
      if (left <= 0) return;
      std::this_thread::sleep_for(std::chrono::microseconds(std::min(left, kWakePoll)));
    }
  }
};

}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

}  // namespace bikestream
