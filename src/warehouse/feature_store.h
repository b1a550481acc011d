// FeatureStore: the station_features table computed, stored and read, and training sets.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "features/feature_rows.h"
#include "features/feature_spec.h"
#include "features/labels.h"
#include "warehouse/query_result.h"

namespace bikestream {

// A training set: one row per station and as_of, one column per feature (the PIVOT).
struct TrainingSetRequest {
  std::vector<std::string> features;  // Column order.
  // Exactly one of:
  std::optional<TimestampMicros> as_of;                              // The rows at this as_of.
  std::optional<std::pair<TimestampMicros, TimestampMicros>> range;  // Every as_of in [from, to].
  // Rows of an entity file (features/labels.h): each gets the features at the latest as_of <= ts
  // (point in time: never a value computed after ts), its label columns kept as given.
  using LabelRow = ::bikestream::LabelRow;
  using Labels = ::bikestream::Labels;
  std::optional<Labels> labels;
};

// The station_features table: computed inside the warehouse from raw_events (set-based SQL;
// the events are never read into the process), or written as computed elsewhere.
class FeatureStore {
 public:
  virtual ~FeatureStore() = default;

  // Computes `features` for every station at `as_of`, without storing them.
  virtual absl::StatusOr<std::vector<FeatureRow>> ComputeFeatures(
      const std::vector<FeatureSpec>& features, TimestampMicros as_of) = 0;

  // Computes them as ComputeFeatures does and, in one transaction, replaces the stored rows of
  // these features at `as_of` with them. Returns the rows written.
  virtual absl::StatusOr<std::size_t> RefreshFeatures(const std::vector<FeatureSpec>& features,
                                                      TimestampMicros as_of) = 0;

  // The stored rows at `as_of`, ordered by station, feature and window.
  virtual absl::StatusOr<std::vector<FeatureRow>> StoredFeatures(TimestampMicros as_of) = 0;

  // `station_id`'s stored rows with as_of in [from, to], ordered by as_of, feature and window.
  virtual absl::StatusOr<std::vector<FeatureRow>> StationFeatureHistory(std::string_view station_id,
                                                                        TimestampMicros from,
                                                                        TimestampMicros to) = 0;

  // For each tick, replaces the stored rows of `feature_names` at the tick's as_of with its
  // rows; all ticks in one transaction (rows computed outside the warehouse, by the streaming
  // job). Every row of a tick carries that tick's as_of.
  virtual absl::Status WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                         const std::vector<FeatureTick>& ticks) = 0;

  // The latest as_of stored, if any.
  virtual absl::StatusOr<std::optional<TimestampMicros>> LatestFeatureTime() = 0;

  // Pivots station_features into a training set; columns: station_id, as_of (and ts and the
  // labels, for a labels request), then one per feature.
  virtual absl::StatusOr<QueryResult> TrainingSet(const TrainingSetRequest& request) = 0;
};

}  // namespace bikestream
