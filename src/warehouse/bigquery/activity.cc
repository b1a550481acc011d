// The console's reads (ActivityReader), as queries over raw_events: BigQuery has no indexes, so
// each reads the columns it names over the period (docs/adr/0008; --verbose shows the bytes).
#include <fmt/format.h>

#include "warehouse/bigquery/bigquery_backend.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

constexpr char kActivityColumns[] =
    "SUM(CASE WHEN kind = 'pickup' THEN 1 ELSE 0 END) AS pickups, "
    "SUM(CASE WHEN kind = 'pickup' THEN delta ELSE 0 END) AS pickup_bikes, "
    "SUM(CASE WHEN kind = 'dropoff' THEN 1 ELSE 0 END) AS dropoffs, "
    "SUM(CASE WHEN kind = 'dropoff' THEN delta ELSE 0 END) AS dropoff_bikes";

Activity ActivityAt(const std::vector<std::optional<std::string>>& row, std::size_t first) {
  return Activity{IntegerOf(row[first]), IntegerOf(row[first + 1]), IntegerOf(row[first + 2]),
                  IntegerOf(row[first + 3])};
}

json Period(TimestampMicros from, TimestampMicros to) {
  return {ScalarParameter("from", "TIMESTAMP", TimestampText(ActivityBucketAtOrAfter(from))),
          ScalarParameter("to", "TIMESTAMP", TimestampText(ActivityBucketAtOrAfter(to)))};
}

}  // namespace

absl::StatusOr<std::vector<ActivityBucket>> BigQueryWarehouse::StationBuckets(std::string_view station_id,
                                                                              TimestampMicros from, TimestampMicros to) {
  json parameters = Period(from, to);
  parameters.push_back(ScalarParameter("station", "STRING", std::string(station_id)));
  auto rows = Read("station activity",
                   // Rounded down also before 1970, as ActivityBucketOf (DIV rounds toward zero).
                   fmt::format("SELECT UNIX_MICROS(ts_iso) - MOD(MOD(UNIX_MICROS(ts_iso), {0}) + {0}, {0}) AS bucket, "
                               "{1} FROM {2} "
                               "WHERE station_id = @station AND ts_iso >= @from AND ts_iso < @to "
                               "GROUP BY bucket ORDER BY bucket",
                               kActivityBucket, kActivityColumns, Quoted(tables_.raw_events)),
                   parameters);
  if (!rows.ok()) return rows.status();
  std::vector<ActivityBucket> buckets;
  for (const auto& r : rows->rows) buckets.push_back({IntegerOf(r[0]), ActivityAt(r, 1)});
  return buckets;
}

absl::StatusOr<std::vector<StationActivity>> BigQueryWarehouse::BusiestStations(TimestampMicros from,
                                                                                TimestampMicros to,
                                                                                std::size_t limit) {
  auto rows = Read("busiest stations",
                   fmt::format("SELECT station_id, {} FROM {} WHERE ts_iso >= @from AND ts_iso < @to "
                               "GROUP BY station_id ORDER BY pickups + dropoffs DESC, station_id LIMIT {}",
                               kActivityColumns, Quoted(tables_.raw_events), ActivityLimit(limit)),
                   Period(from, to));
  if (!rows.ok()) return rows.status();
  std::vector<StationActivity> stations;
  for (const auto& r : rows->rows) stations.push_back({r[0].value_or(""), ActivityAt(r, 1)});
  return stations;
}

}  // namespace bikestream::bigquery
