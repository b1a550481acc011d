// The console's reads. The 15-minute activity table (docs/adr/0008): per station and bucket, the
// events of each kind and the bikes they moved, added to in each commit's transaction from the
// events that commit stored new; the reads from it touch a station's buckets only. A station's
// features over time read station_features' (station_id, as_of) index; the dead-letter counts
// read the table (dead letters are few).
#include <fmt/format.h>

#include <map>
#include <utility>

#include "warehouse/sql/sql_text.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {

std::string ActivityTable(const TableNames& tables) { return tables.raw_events + "_activity"; }

std::string ActivitySchemaSql(const TableNames& tables) {
  return fmt::format(R"sql(
    CREATE TABLE IF NOT EXISTS {} (
      station_id    TEXT      NOT NULL,
      bucket        TIMESTAMP NOT NULL,
      pickups       INTEGER   NOT NULL,
      pickup_bikes  INTEGER   NOT NULL,
      dropoffs      INTEGER   NOT NULL,
      dropoff_bikes INTEGER   NOT NULL,
      PRIMARY KEY (station_id, bucket)
    ) WITHOUT ROWID;
  )sql",
                     QuoteIdentifier(ActivityTable(tables)));
}

absl::StatusOr<bool> SqliteWarehouse::HasTable(const std::string& name) {
  auto stmt = Statement::Prepare(db_.get(), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, name);
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return Error(db_.get(), "reading the schema failed");
  return sqlite3_column_int64(stmt->get(), 0) > 0;
}

absl::Status SqliteWarehouse::FillActivity() {
  return Exec(db_.get(),
              fmt::format("INSERT INTO {0} (station_id, bucket, pickups, pickup_bikes, dropoffs, dropoff_bikes) "
                          "SELECT station_id, ts_iso - ((ts_iso % {1}) + {1}) % {1}, sum(kind = 'pickup'), "
                          "sum(CASE WHEN kind = 'pickup' THEN delta ELSE 0 END), sum(kind = 'dropoff'), "
                          "sum(CASE WHEN kind = 'dropoff' THEN delta ELSE 0 END) FROM {2} GROUP BY 1, 2",
                          QuoteIdentifier(ActivityTable(tables_)), kActivityBucket,
                          QuoteIdentifier(tables_.raw_events)));
}

std::string SqliteWarehouse::ActivityUpsertSql() const {
  return fmt::format(
      "INSERT INTO {} (station_id, bucket, pickups, pickup_bikes, dropoffs, dropoff_bikes) VALUES (?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (station_id, bucket) DO UPDATE SET pickups = pickups + excluded.pickups, "
      "pickup_bikes = pickup_bikes + excluded.pickup_bikes, dropoffs = dropoffs + excluded.dropoffs, "
      "dropoff_bikes = dropoff_bikes + excluded.dropoff_bikes",
      QuoteIdentifier(ActivityTable(tables_)));
}

absl::Status SqliteWarehouse::AddActivity(const std::vector<const Event*>& stored) {
  // Summed first, so a batch writes each (station, bucket) once, in key order.
  std::map<std::pair<std::string_view, TimestampMicros>, Activity> sums;
  for (const Event* event : stored) sums[{event->station_id, ActivityBucketOf(event->ts)}].Add(*event);
  for (const auto& [key, activity] : sums) {
    upsert_activity_.Bind(1, key.first);
    upsert_activity_.Bind(2, key.second);
    upsert_activity_.Bind(3, activity.pickups);
    upsert_activity_.Bind(4, activity.pickup_bikes);
    upsert_activity_.Bind(5, activity.dropoffs);
    upsert_activity_.Bind(6, activity.dropoff_bikes);
    if (auto changes = upsert_activity_.Run(); !changes.ok()) return changes.status();
  }
  return absl::OkStatus();
}

namespace {

// Columns `first` to `first + 3` of the current row: pickups, their bikes, drop-offs, theirs.
Activity ActivityAt(sqlite3_stmt* stmt, int first) {
  return Activity{sqlite3_column_int64(stmt, first), sqlite3_column_int64(stmt, first + 1),
                  sqlite3_column_int64(stmt, first + 2), sqlite3_column_int64(stmt, first + 3)};
}

}  // namespace

absl::StatusOr<std::vector<ActivityBucket>> SqliteWarehouse::StationBuckets(std::string_view station_id,
                                                                            TimestampMicros from, TimestampMicros to) {
  auto stmt = Statement::Prepare(
      db_.get(), fmt::format("SELECT bucket, pickups, pickup_bikes, dropoffs, dropoff_bikes FROM {} "
                             "WHERE station_id = ?1 AND bucket >= ?2 AND bucket < ?3 ORDER BY bucket",
                             QuoteIdentifier(ActivityTable(tables_))));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, station_id);
  stmt->Bind(2, from);
  stmt->Bind(3, to);
  std::vector<ActivityBucket> buckets;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    buckets.push_back({sqlite3_column_int64(stmt->get(), 0), ActivityAt(stmt->get(), 1)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading a station's activity failed");
  return buckets;
}

absl::StatusOr<std::vector<StationActivity>> SqliteWarehouse::BusiestStations(TimestampMicros from,
                                                                              TimestampMicros to, std::size_t limit) {
  auto stmt = Statement::Prepare(
      db_.get(), fmt::format("SELECT station_id, sum(pickups), sum(pickup_bikes), sum(dropoffs), sum(dropoff_bikes) "
                             "FROM {} WHERE bucket >= ?1 AND bucket < ?2 GROUP BY station_id "
                             "ORDER BY sum(pickups) + sum(dropoffs) DESC, station_id LIMIT ?3",
                             QuoteIdentifier(ActivityTable(tables_))));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, from);
  stmt->Bind(2, to);
  stmt->Bind(3, ActivityLimit(limit));
  std::vector<StationActivity> stations;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    stations.push_back({ColumnText(stmt->get(), 0), ActivityAt(stmt->get(), 1)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading the busiest stations failed");
  return stations;
}

absl::StatusOr<std::vector<FeatureRow>> SqliteWarehouse::StationFeatureHistory(std::string_view station_id,
                                                                               TimestampMicros from,
                                                                               TimestampMicros to) {
  auto stmt = Statement::Prepare(
      db_.get(), fmt::format("SELECT feature_name, window_len, value, as_of FROM {} "
                             "WHERE station_id = ?1 AND as_of >= ?2 AND as_of <= ?3 "
                             "ORDER BY as_of, feature_name, window_len",
                             QuoteIdentifier(tables_.station_features)));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, station_id);
  stmt->Bind(2, from);
  stmt->Bind(3, to);
  std::vector<FeatureRow> rows;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    rows.push_back(FeatureRow{std::string(station_id), ColumnText(stmt->get(), 0), ColumnText(stmt->get(), 1),
                              sqlite3_column_double(stmt->get(), 2), sqlite3_column_int64(stmt->get(), 3)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading a station's features failed");
  return rows;
}

absl::StatusOr<std::vector<DeadLetterCount>> SqliteWarehouse::CountDeadLetters(TimestampMicros bucket,
                                                                              TimestampMicros from, TimestampMicros to) {
  auto stmt = Statement::Prepare(
      db_.get(), fmt::format("SELECT reason, first_seen - ((first_seen % ?1) + ?1) % ?1 AS bucket, count(*) FROM {} "
                             "WHERE first_seen >= ?2 AND first_seen < ?3 GROUP BY bucket, reason ORDER BY bucket, reason",
                             QuoteIdentifier(tables_.dead_letter)));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, bucket);
  stmt->Bind(2, from);
  stmt->Bind(3, to);
  std::vector<DeadLetterCount> counts;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    counts.push_back({ColumnText(stmt->get(), 0), sqlite3_column_int64(stmt->get(), 1),
                      sqlite3_column_int64(stmt->get(), 2)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "counting dead letters failed");
  return counts;
}

}  // namespace bikestream::sqlite
