#include "simulator/pacer.h"

namespace bikestream {

void Pacer::WaitUntil(double due_seconds, const std::function<bool()>& should_stop) const {
  const TimestampMicros due = start_ + static_cast<TimestampMicros>(due_seconds * kMicrosPerSecond);
  if (clock_.Now() >= due) return;
  clock_.SleepUntil(due, should_stop);
}

}  // namespace bikestream
