#include "simulator/pacer.h"

#include <thread>

namespace bikestream {
namespace {
// Long waits sleep in slices so that a stop request is seen promptly.
constexpr auto kSleepSlice = std::chrono::milliseconds(100);
}  // namespace

void Pacer::WaitUntil(double due_seconds, const std::function<bool()>& should_stop) const {
  const auto due = start_ + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(due_seconds));
  while (!should_stop()) {
    const auto now = Clock::now();
    if (now >= due) return;
    std::this_thread::sleep_for(std::min<Clock::duration>(due - now, kSleepSlice));
  }
}

}  // namespace bikestream
