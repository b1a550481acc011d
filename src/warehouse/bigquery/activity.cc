// The console's reads, as queries: BigQuery has no indexes, so each reads the columns it names
// over the period (docs/adr/0008; --verbose shows the bytes): ActivityReader's of raw_events, a
// station's features of station_features, the dead-letter counts of dead_letter's period.
#include <fmt/format.h>

#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/sql/activity_query.h"
#include "warehouse/sql/totals_query.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

Activity ActivityAt(const std::vector<std::optional<std::string>>& row, std::size_t first) {
  return Activity{IntegerOf(row[first]), IntegerOf(row[first + 1]), IntegerOf(row[first + 2]),
                  IntegerOf(row[first + 3])};
}

json Period(TimePeriod period) {
  return {InstantParameter(1, ActivityBucketAtOrAfter(period.from)),
          InstantParameter(2, ActivityBucketAtOrAfter(period.to))};
}

}  // namespace

absl::StatusOr<std::vector<ActivityBucket>> BigQueryWarehouse::StationBuckets(
    std::string_view station_id, TimePeriod period) {
  json parameters = Period(period);
  parameters.push_back(ScalarParameter("station", "STRING", std::string(station_id)));
  auto rows =
      Read("station activity",
           StationBucketsQuery(Quoted(tables_.raw_events), "@station", kActivityBucket, Dialect()),
           parameters);
  if (!rows.ok()) return rows.status();
  std::vector<ActivityBucket> buckets;
  for (const auto& r : rows->rows) buckets.push_back({IntegerOf(r[0]), ActivityAt(r, 1)});
  return buckets;
}

absl::StatusOr<std::vector<StationActivity>> BigQueryWarehouse::BusiestStations(TimePeriod period,
                                                                                std::size_t limit) {
  auto rows =
      Read("busiest stations",
           BusiestStationsQuery(Quoted(tables_.raw_events), ActivityLimit(limit), Dialect()),
           Period(period));
  if (!rows.ok()) return rows.status();
  std::vector<StationActivity> stations;
  for (const auto& r : rows->rows) stations.push_back({r[0].value_or(""), ActivityAt(r, 1)});
  return stations;
}

absl::StatusOr<std::vector<FeatureRow>> BigQueryWarehouse::StationFeatureHistory(
    std::string_view station_id, TimestampMicros from, TimestampMicros to) {
  auto rows = Read("station features",
                   fmt::format("SELECT feature_name, window_len, value, as_of FROM {} "
                               "WHERE station_id = @station AND as_of >= @from AND as_of <= @to "
                               "ORDER BY as_of, feature_name, window_len",
                               Quoted(tables_.station_features)),
                   json::array({ScalarParameter("station", "STRING", std::string(station_id)),
                                ScalarParameter("from", "TIMESTAMP", TimestampText(from)),
                                ScalarParameter("to", "TIMESTAMP", TimestampText(to))}));
  if (!rows.ok()) return rows.status();
  std::vector<FeatureRow> features;
  features.reserve(rows->rows.size());
  for (const auto& r : rows->rows) {
    features.push_back({std::string(station_id), r[0].value_or(""), r[1].value_or(""),
                        DoubleOf(r[2]), IntegerOf(r[3])});
  }
  return features;
}

absl::StatusOr<std::vector<DeadLetterCount>> BigQueryWarehouse::CountDeadLetters(
    DurationMicros bucket, TimePeriod period) {
  auto rows = Read("dead-letter counts",
                   DeadLetterCountsQuery(Quoted(tables_.dead_letter), bucket, Dialect()),
                   json::array({InstantParameter(1, period.from), InstantParameter(2, period.to)}));
  if (!rows.ok()) return rows.status();
  std::vector<DeadLetterCount> counts;
  for (const auto& r : rows->rows)
    counts.push_back({r[0].value_or(""), IntegerOf(r[1]), IntegerOf(r[2])});
  return counts;
}

}  // namespace bikestream::bigquery
