// The console's reads, as queries over raw_events' (station_id, ts_iso) index and the period's
// events (docs/adr/0008): a station's 15-minute buckets and the busiest stations.
#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/activity_query.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::spanner {
namespace {

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
  auto rows =
      Read(StationBucketsQuery(Quoted(tables_.raw_events), "@station", kActivityBucket, Dialect()),
           params);
  if (!rows.ok()) return rows.status();
  std::vector<ActivityBucket> buckets;
  for (const auto& r : rows->rows) buckets.push_back({IntegerOf(r[0]), ActivityAt(r, 1)});
  return buckets;
}

absl::StatusOr<std::vector<StationActivity>> SpannerWarehouse::BusiestStations(TimePeriod period,
                                                                               std::size_t limit) {
  auto rows =
      Read(BusiestStationsQuery(Quoted(tables_.raw_events), ActivityLimit(limit), Dialect()),
           Period(period));
  if (!rows.ok()) return rows.status();
  std::vector<StationActivity> stations;
  for (const auto& r : rows->rows) stations.push_back({TextOf(r[0]), ActivityAt(r, 1)});
  return stations;
}

}  // namespace bikestream::spanner
