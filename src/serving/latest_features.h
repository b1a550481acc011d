// The latest tick of station_features as the training set pivots it, held in memory for
// serving: the values a model trained on `training-set` rows gets for each station now.
//
// It is read whole (one TrainingSet call, the same code that exports training sets, so the
// values are the training set's to the byte) when LatestFeatureTime moves, and again every
// `reread` in any case: a streaming job or a backfill rewrites the latest tick in place, which
// LatestFeatureTime does not show. Requests never touch the warehouse.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "warehouse/feature_store.h"

namespace bikestream {

struct LatestTick {
  TimestampMicros as_of = 0;
  std::string as_of_text;             // As the training set prints it (RFC 3339).
  std::vector<std::string> features;  // The served features, in the order asked for.
  // Station → its row's cells, one per feature in `features` (null where it has no value);
  // station ids and text made valid UTF-8.
  std::unordered_map<std::string, std::vector<QueryResult::Cell>> stations;
  TimestampMicros read_at = 0;  // When it was read from the warehouse.
};

class LatestFeatures {
 public:
  // Serves `features` of `store`, which only Refresh() uses (from one thread at a time).
  LatestFeatures(FeatureStore& store, std::vector<std::string> features, Clock& clock,
                 DurationMicros reread);

  // Reads the latest tick when it moved, or `reread` has passed since the last read. An error
  // leaves the tick held as it was.
  absl::Status Refresh();

  // The tick held; nullptr until one was read (station_features is empty, or unreachable).
  std::shared_ptr<const LatestTick> Current() const;

 private:
  absl::Status Read(TimestampMicros as_of);

  FeatureStore& store_;
  const std::vector<std::string> features_;
  Clock& clock_;
  const DurationMicros reread_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const LatestTick> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bikestream
