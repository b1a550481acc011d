// The console's reads. ActivityReader's straight from raw_events: its (station_id, ts_iso) index
// finds a station's events, and a period's by time (docs/adr/0008). A station's features over
// time read station_features' primary key, which starts with station_id; the dead-letter counts
// read the table (dead letters are few).
#include <fmt/format.h>

#include "warehouse/postgres/postgres_backend.h"
#include "warehouse/postgres/postgres_rows.h"
#include "warehouse/sql/totals_query.h"

namespace bikestream::postgres {
namespace {

// The four sums of an Activity over a group of raw_events rows.
constexpr char kActivityColumns[] =
    "count(*) FILTER (WHERE kind = 'pickup'), coalesce(sum(delta) FILTER (WHERE kind = 'pickup'), "
    "0), "
    "count(*) FILTER (WHERE kind = 'dropoff'), coalesce(sum(delta) FILTER (WHERE kind = "
    "'dropoff'), 0)";

Activity ActivityAt(const PGresult* rows, int row, int first) {
  return Activity{Integer(rows, row, first), Integer(rows, row, first + 1),
                  Integer(rows, row, first + 2), Integer(rows, row, first + 3)};
}

}  // namespace

absl::StatusOr<std::vector<ActivityBucket>> PostgresWarehouse::StationBuckets(
    std::string_view station_id, TimePeriod period) {
  const std::string sql = fmt::format(
      "SELECT {}, {} FROM {} WHERE station_id = $1 AND ts_iso >= {} AND ts_iso < {} GROUP BY 1 "
      "ORDER BY 1",
      Dialect().bucket_start(Micros("ts_iso"), kActivityBucket), kActivityColumns, raw_, Instant(2),
      Instant(3));
  const std::string from_text = FormatRfc3339(ActivityBucketAtOrAfter(period.from));
  const std::string to_text = FormatRfc3339(ActivityBucketAtOrAfter(period.to));
  const Param params[] = {{station_id}, {from_text}, {to_text}};
  return Read(sql, params, [](const PGresult* rows) {
    std::vector<ActivityBucket> buckets;
    buckets.reserve(PQntuples(rows));
    for (int r = 0; r < PQntuples(rows); ++r)
      buckets.push_back({Integer(rows, r, 0), ActivityAt(rows, r, 1)});
    return buckets;
  });
}

absl::StatusOr<std::vector<StationActivity>> PostgresWarehouse::BusiestStations(TimePeriod period,
                                                                                std::size_t limit) {
  const std::string sql = fmt::format(
      "SELECT station_id, {} FROM {} WHERE ts_iso >= {} AND ts_iso < {} GROUP BY station_id "
      "ORDER BY count(*) DESC, station_id LIMIT {}",
      kActivityColumns, raw_, Instant(1), Instant(2), ActivityLimit(limit));
  const std::string from_text = FormatRfc3339(ActivityBucketAtOrAfter(period.from));
  const std::string to_text = FormatRfc3339(ActivityBucketAtOrAfter(period.to));
  const Param params[] = {{from_text}, {to_text}};
  return Read(sql, params, [](const PGresult* rows) {
    std::vector<StationActivity> stations;
    stations.reserve(PQntuples(rows));
    for (int r = 0; r < PQntuples(rows); ++r) {
      stations.push_back({std::string(Text(rows, r, 0)), ActivityAt(rows, r, 1)});
    }
    return stations;
  });
}

absl::StatusOr<std::vector<FeatureRow>> PostgresWarehouse::StationFeatureHistory(
    std::string_view station_id, TimestampMicros from, TimestampMicros to) {
  const std::string sql = fmt::format(
      "SELECT feature_name, window_len, value, {} FROM {} WHERE station_id = $1 AND as_of >= {} "
      "AND as_of <= {} "
      "ORDER BY as_of, feature_name COLLATE \"C\", window_len COLLATE \"C\"",
      Micros("as_of"), features_, Instant(2), Instant(3));
  const std::string from_text = FormatRfc3339(from);
  const std::string to_text = FormatRfc3339(to);
  const Param params[] = {{station_id}, {from_text}, {to_text}};
  return Read(sql, params, [station = std::string(station_id)](const PGresult* rows) {
    std::vector<FeatureRow> features;
    features.reserve(PQntuples(rows));
    for (int r = 0; r < PQntuples(rows); ++r) {
      features.push_back(FeatureRow{station, std::string(Text(rows, r, 0)),
                                    std::string(Text(rows, r, 1)), Real(rows, r, 2),
                                    Integer(rows, r, 3)});
    }
    return features;
  });
}

absl::StatusOr<std::vector<DeadLetterCount>> PostgresWarehouse::CountDeadLetters(
    DurationMicros bucket, TimePeriod period) {
  const std::string sql = DeadLetterCountsQuery(dead_, bucket, Dialect());
  const std::string from_text = FormatRfc3339(period.from);
  const std::string to_text = FormatRfc3339(period.to);
  const Param params[] = {{from_text}, {to_text}};
  return Read(sql, params, [](const PGresult* rows) {
    std::vector<DeadLetterCount> counts;
    counts.reserve(PQntuples(rows));
    for (int r = 0; r < PQntuples(rows); ++r) {
      counts.push_back({std::string(Text(rows, r, 0)), Integer(rows, r, 1), Integer(rows, r, 2)});
    }
    return counts;
  });
}

}  // namespace bikestream::postgres
