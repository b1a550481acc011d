// The feature store on BigQuery. Stored rows are read here; computing features in GoogleSQL,
// writing streaming ticks and training sets are not built yet (issue 10): they answer
// kUnimplemented saying so, never a wrong result.
#include <fmt/format.h>

#include "warehouse/bigquery/bigquery_backend.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

absl::Status NotYet(std::string_view what) {
  return absl::UnimplementedError(fmt::format(
      "{} on BigQuery is not built yet; compute features on sqlite: or postgresql:// meanwhile (docs/bigquery.md)",
      what));
}

}  // namespace

absl::StatusOr<std::vector<FeatureRow>> BigQueryWarehouse::ComputeFeatures(const std::vector<FeatureSpec>&,
                                                                           TimestampMicros) {
  return NotYet("computing features");
}

absl::StatusOr<std::size_t> BigQueryWarehouse::RefreshFeatures(const std::vector<FeatureSpec>&, TimestampMicros) {
  return NotYet("computing features");
}

absl::Status BigQueryWarehouse::WriteFeatureTicks(const std::vector<std::string>&, const std::vector<FeatureTick>&) {
  return NotYet("streaming features");
}

absl::StatusOr<QueryResult> BigQueryWarehouse::TrainingSet(const TrainingSetRequest&) {
  return NotYet("training-set");
}

absl::StatusOr<std::vector<FeatureRow>> BigQueryWarehouse::StoredFeatures(TimestampMicros as_of) {
  auto rows = Read("stored features",
                   fmt::format("SELECT station_id, feature_name, window_len, value FROM {} WHERE as_of = @as_of "
                               "ORDER BY station_id, feature_name, window_len",
                               Quoted(tables_.station_features)),
                   json::array({ScalarParameter("as_of", "TIMESTAMP", TimestampText(as_of))}));
  if (!rows.ok()) return rows.status();
  std::vector<FeatureRow> features;
  for (const auto& r : rows->rows) {
    features.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3] ? std::stod(*r[3]) : 0.0, as_of});
  }
  return features;
}

absl::StatusOr<std::optional<TimestampMicros>> BigQueryWarehouse::LatestFeatureTime() {
  return MaxInstant("as_of", tables_.station_features);
}

}  // namespace bikestream::bigquery
