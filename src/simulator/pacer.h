// Paces a simulated stream in wall-clock time: waits until each message is due. Time and
// waiting go through `clock`. Thread-compatible: one producer thread paces.
#pragma once

#include <functional>

#include "common/clock.h"

namespace bikestream {

class Pacer {
 public:
  // Starts now; `clock` must outlive the pacer.
  explicit Pacer(Clock& clock = SystemClock()) : clock_(clock), start_(clock.Now()) {}

  // Waits until `due_seconds` after the start; returns early once `should_stop()` is true.
  void WaitUntil(double due_seconds, const std::function<bool()>& should_stop) const;

  double ElapsedSeconds() const { return double(clock_.Now() - start_) / kMicrosPerSecond; }

 private:
  Clock& clock_;
  const TimestampMicros start_;
};

}  // namespace bikestream
