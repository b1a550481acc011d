// Paces a simulated stream in wall-clock time: waits until each message is due.
#pragma once

#include <chrono>
#include <functional>

namespace bikestream {

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Pacer(Clock::time_point start = Clock::now()) : start_(start) {}

  // Sleeps until `due_seconds` after the start; returns early once `should_stop()` is true.
  void WaitUntil(double due_seconds, const std::function<bool()>& should_stop) const;

  double ElapsedSeconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }

 private:
  Clock::time_point start_;
};

}  // namespace bikestream
