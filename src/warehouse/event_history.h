// EventHistory: raw_events read back, for engines that keep state outside the warehouse.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"
#include "features/feature_rows.h"

namespace bikestream {

class EventHistory {
 public:
  virtual ~EventHistory() = default;

  // Calls `visit` with every event whose ts is after `after`, in ts order.
  virtual absl::Status ScanEvents(TimestampMicros after,
                                  const std::function<void(const Event&)>& visit) = 0;

  // The latest event time stored, if any.
  virtual absl::StatusOr<std::optional<TimestampMicros>> LatestEventTime() = 0;

  // Per station and kind, the totals of the events with ts at or before `through`.
  virtual absl::StatusOr<std::vector<StationTotals>> EventTotals(TimestampMicros through) = 0;
};

}  // namespace bikestream
