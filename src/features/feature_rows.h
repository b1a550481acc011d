// What the feature engines compute and the feature store keeps: rows of the tall
// station_features table, the rows of one tick, and per-station totals of events (what a
// streaming engine resumes from after a restart). Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "event/event.h"

namespace bikestream {

// One row of station_features.
struct FeatureRow {
  std::string station_id;
  std::string feature_name;
  std::string window_len;
  double value = 0;
  TimestampMicros as_of = 0;

  friend bool operator==(const FeatureRow&, const FeatureRow&) = default;
};

// Every row of one as_of.
struct FeatureTick {
  TimestampMicros as_of = 0;
  std::vector<FeatureRow> rows;
};

// The ticks, in order, cut into runs of whole ticks of at most `max_rows` rows (a tick larger
// than that is a run of its own): what a warehouse writes in one request or transaction, so that
// a tick is never half replaced.
std::vector<std::vector<const FeatureTick*>> RunsOfWholeTicks(const std::vector<FeatureTick>& ticks,
                                                              std::size_t max_rows);

// Totals of events of one kind: what count, sum, avg, min and max are computed from.
struct KindTotals {
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int32_t min = 0;
  std::int32_t max = 0;
  void Add(std::int32_t delta);
  void Merge(const KindTotals& other);
};

// One station's totals of one kind up to some instant, and its first event time.
struct StationTotals {
  std::string station_id;
  Kind kind = Kind::kPickup;
  KindTotals totals;
  TimestampMicros first_ts = 0;
};

}  // namespace bikestream
