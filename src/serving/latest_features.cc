#include "serving/latest_features.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/mutex.h"
#include "event/timestamp.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream {

LatestFeatures::LatestFeatures(FeatureStore& store, std::vector<std::string> features, Clock& clock,
                               DurationMicros reread)
    : store_(store), features_(std::move(features)), clock_(clock), reread_(reread) {}

std::shared_ptr<const LatestTick> LatestFeatures::Current() const {
  MutexLock lock(&mu_);
  return current_;
}

absl::Status LatestFeatures::Refresh() {
  auto latest = store_.LatestFeatureTime();
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) return absl::OkStatus();  // Nothing computed yet.
  const std::shared_ptr<const LatestTick> held = Current();
  if (held && held->as_of == **latest && clock_.Now() - held->read_at < reread_) {
    return absl::OkStatus();
  }
  return Read(**latest);
}

absl::Status LatestFeatures::Read(TimestampMicros as_of) {
  const TimestampMicros read_at = clock_.Now();
  auto rows = store_.TrainingSet({.features = features_, .as_of = as_of});
  if (!rows.ok()) return rows.status();
  // Columns: station_id, as_of, then one per feature (feature_store.h).
  const auto& columns = rows->columns;
  if (columns.size() != features_.size() + 2 || columns[0] != "station_id") {
    return absl::InternalError(
        fmt::format("the training set's columns were {}, not station_id, "
                    "as_of and the {} features",
                    fmt::join(columns, ", "), features_.size()));
  }
  auto tick = std::make_shared<LatestTick>();
  tick->as_of = as_of;
  tick->features = features_;
  tick->read_at = read_at;
  tick->stations.reserve(rows->rows.size());
  for (auto& row : rows->rows) {
    if (row.size() != columns.size()) {
      return absl::InternalError(fmt::format("a training-set row had {} cells for {} columns",
                                             row.size(), columns.size()));
    }
    if (tick->as_of_text.empty()) tick->as_of_text = row[1].text;
    // Made valid UTF-8 once here, not on every answer that carries them.
    std::vector<QueryResult::Cell> values(std::make_move_iterator(row.begin() + 2),
                                          std::make_move_iterator(row.end()));
    for (QueryResult::Cell& cell : values) {
      if (!cell.is_null && !cell.is_number) cell.text = ValidUtf8(cell.text);
    }
    tick->stations.emplace(ValidUtf8(row[0].text), std::move(values));
  }
  if (tick->as_of_text.empty()) tick->as_of_text = FormatRfc3339(as_of);
  MutexLock lock(&mu_);
  current_ = std::move(tick);
  return absl::OkStatus();
}

}  // namespace bikestream
