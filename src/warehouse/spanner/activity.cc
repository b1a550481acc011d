// The console's reads, as queries over raw_events' (station_id, ts_iso) index and the period's
// events (docs/adr/0008): a station's 15-minute buckets and the busiest stations.
#include <fmt/format.h>

#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::spanner {
namespace {

constexpr char kActivityColumns[] =
    "SUM(CASE WHEN kind = 'pickup' THEN 1 ELSE 0 END) AS pickups, "
    "SUM(CASE WHEN kind = 'pickup' THEN delta ELSE 0 END) AS pickup_bikes, "
    "SUM(CASE WHEN kind = 'dropoff' THEN 1 ELSE 0 END) AS dropoffs, "
    "SUM(CASE WHEN kind = 'dropoff' THEN delta ELSE 0 END) AS dropoff_bikes";

Activity ActivityAt(const std::vector<nlohmann::json>& row, std::size_t first) {
  return Activity{IntegerOf(row[first]), IntegerOf(row[first + 1]), IntegerOf(row[first + 2]),
                  IntegerOf(row[first + 3])};
}

Params Period(TimePeriod period) {
  return {InstantParameter(1, ActivityBucketAtOrAfter(period.from)),
          InstantParameter(2, ActivityBucketAtOrAfter(period.to))};
}

}  // namespace

absl::StatusOr<std::vector<ActivityBucket>> SpannerWarehouse::StationBuckets(
    std::string_view station_id, TimePeriod period) {
  Params params = Period(period);
  params.push_back({"station", String(ValidUtf8(station_id))});
  auto rows = Read(
      fmt::format("SELECT {} AS bucket, {} FROM {} WHERE station_id = @station AND ts_iso >= @p1 "
                  "AND ts_iso < @p2 GROUP BY bucket ORDER BY bucket",
                  Dialect().bucket_start(Dialect().micros("ts_iso"), kActivityBucket),
                  kActivityColumns, Quoted(tables_.raw_events)),
      params);
  if (!rows.ok()) return rows.status();
  std::vector<ActivityBucket> buckets;
  for (const auto& r : rows->rows) buckets.push_back({IntegerOf(r[0]), ActivityAt(r, 1)});
  return buckets;
}

absl::StatusOr<std::vector<StationActivity>> SpannerWarehouse::BusiestStations(TimePeriod period,
                                                                               std::size_t limit) {
  Params params = Period(period);
  params.push_back({"limit", Int64(ActivityLimit(limit))});
  auto rows = Read(
      fmt::format("SELECT station_id, {} FROM {} WHERE ts_iso >= @p1 AND ts_iso < @p2 GROUP BY "
                  "station_id ORDER BY pickups + dropoffs DESC, station_id LIMIT @limit",
                  kActivityColumns, Quoted(tables_.raw_events)),
      params);
  if (!rows.ok()) return rows.status();
  std::vector<StationActivity> stations;
  for (const auto& r : rows->rows) stations.push_back({TextOf(r[0]), ActivityAt(r, 1)});
  return stations;
}

}  // namespace bikestream::spanner
