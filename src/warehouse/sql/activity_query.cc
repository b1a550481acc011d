#include "warehouse/sql/activity_query.h"

#include <fmt/format.h>

namespace bikestream {
namespace {

// The four sums of an Activity over a group of raw_events rows.
constexpr char kActivityColumns[] =
    "SUM(CASE WHEN kind = 'pickup' THEN 1 ELSE 0 END) AS pickups, "
    "SUM(CASE WHEN kind = 'pickup' THEN delta ELSE 0 END) AS pickup_bikes, "
    "SUM(CASE WHEN kind = 'dropoff' THEN 1 ELSE 0 END) AS dropoffs, "
    "SUM(CASE WHEN kind = 'dropoff' THEN delta ELSE 0 END) AS dropoff_bikes";

}  // namespace

std::string StationBucketsQuery(const std::string& raw_events, std::string_view station,
                                std::int64_t bucket, const SqlDialect& dialect) {
  return fmt::format(
      "SELECT {} AS bucket, {} FROM {} WHERE station_id = {} AND ts_iso >= {} AND ts_iso < {} "
      "GROUP BY bucket ORDER BY bucket",
      dialect.bucket_start(dialect.micros("ts_iso"), bucket), kActivityColumns, raw_events, station,
      dialect.instant(1), dialect.instant(2));
}

std::string BusiestStationsQuery(const std::string& raw_events, std::int64_t limit,
                                 const SqlDialect& dialect) {
  return fmt::format(
      "SELECT station_id, {} FROM {} WHERE ts_iso >= {} AND ts_iso < {} GROUP BY station_id "
      "ORDER BY pickups + dropoffs DESC, station_id{} LIMIT {}",
      kActivityColumns, raw_events, dialect.instant(1), dialect.instant(2), dialect.text_order,
      limit);
}

}  // namespace bikestream
