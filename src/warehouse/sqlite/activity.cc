// The console's reads. The 15-minute activity table (docs/adr/0008): per station and bucket, the
// events of each kind and the bikes they moved. It is brought up to date by its readers, not by
// the commits: a one-row state table holds `summed_before`, an instant such that every event
// of raw_events before it is in the totals and none at or after it is. A read first sums the
// events from there on (by the time-first index, a chunk a transaction) and moves the mark; a
// commit adds only the events it stored new that fall before the mark (late ones), which the
// next read would otherwise miss. So a commit seldom writes a total, and each event is counted
// once however it arrived. The reads from the totals touch a station's buckets only. A
// station's features over time read station_features' (station_id, as_of) index; the
// dead-letter counts read the table (dead letters are few).
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/totals_query.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {
namespace {

// What an insert into the totals does to a (station, bucket) already there.
constexpr std::string_view kAddToTotals =
    "ON CONFLICT (station_id, bucket) DO UPDATE SET pickups = pickups + excluded.pickups, "
    "pickup_bikes = pickup_bikes + excluded.pickup_bikes, dropoffs = dropoffs + excluded.dropoffs, "
    "dropoff_bikes = dropoff_bikes + excluded.dropoff_bikes";

// The instant after `ts`; the last one there is for the last.
TimestampMicros After(TimestampMicros ts) {
  return ts == std::numeric_limits<TimestampMicros>::max() ? ts : ts + 1;
}

}  // namespace

std::string ActivityTable(const TableNames& tables) { return tables.raw_events + "_activity"; }
std::string ActivityStateTable(const TableNames& tables) {
  return tables.raw_events + "_activity_state";
}

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
    CREATE TABLE IF NOT EXISTS {} (
      id            INTEGER   PRIMARY KEY CHECK (id = 0),
      summed_before INTEGER   NOT NULL
    );
  )sql",
                     QuoteIdentifier(ActivityTable(tables)),
                     QuoteIdentifier(ActivityStateTable(tables)));
}

absl::StatusOr<bool> SqliteWarehouse::HasTable(const std::string& name) {
  auto stmt = Statement::Prepare(
      db_.get(), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, name);
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return Error(db_.get(), "reading the schema failed");
  return sqlite3_column_int64(stmt->get(), 0) > 0;
}

absl::Status SqliteWarehouse::SetUpActivity(bool had_totals, bool had_state) {
  if (auto status = PrepareActivity(); !status.ok()) return status;
  if (had_totals && had_state) {
    auto mark = SummedBefore();
    if (mark.ok() || !absl::IsFailedPrecondition(mark.status())) return mark.status();
    // The state's row is gone: taken, as below, for a table kept by every commit.
  }
  TimestampMicros summed_before = kNothingSummed;
  if (had_totals) {
    // Made by the version that added to the totals in every commit: they hold every event.
    auto latest = LatestAtOrAfter(kNothingSummed);
    if (!latest.ok()) return latest.status();
    if (*latest) summed_before = After(**latest);
  }
  return SetSummedBefore(summed_before);
}

absl::Status SqliteWarehouse::SetSummedBefore(TimestampMicros summed_before) {
  auto stmt = Statement::Prepare(
      db_.get(), fmt::format("INSERT OR REPLACE INTO {} (id, summed_before) VALUES (0, ?)",
                             QuoteIdentifier(ActivityStateTable(tables_))));
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, summed_before);
  return stmt->Run().status();
}

absl::StatusOr<TimestampMicros> SqliteWarehouse::SummedBefore() {
  if (!read_summed_before_.get()) {
    auto prepared =
        Statement::Prepare(db_.get(), fmt::format("SELECT summed_before FROM {} WHERE id = 0",
                                                  QuoteIdentifier(ActivityStateTable(tables_))));
    if (!prepared.ok()) return WithSetupHint(prepared.status());
    read_summed_before_ = std::move(*prepared);
  }
  sqlite3_stmt* stmt = read_summed_before_.get();
  const int rc = sqlite3_step(stmt);
  const TimestampMicros summed_before = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
  sqlite3_reset(stmt);
  if (rc == SQLITE_DONE) {
    return absl::FailedPreconditionError(
        fmt::format("{} is empty: run `bikestream setup`", ActivityStateTable(tables_)));
  }
  if (rc != SQLITE_ROW) return Error(db_.get(), "reading the activity's mark failed");
  return summed_before;
}

namespace {

// The first column of the only row `stmt` returns, if it returns one.
absl::StatusOr<std::optional<std::int64_t>> FirstInteger(sqlite3* db, Statement& stmt) {
  const int rc = sqlite3_step(stmt.get());
  std::optional<std::int64_t> value;
  if (rc == SQLITE_ROW && sqlite3_column_type(stmt.get(), 0) != SQLITE_NULL)
    value = sqlite3_column_int64(stmt.get(), 0);
  sqlite3_reset(stmt.get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(db, "reading raw_events' times failed");
  return value;
}

}  // namespace

namespace {

// `summed`, once `transaction` has committed.
absl::StatusOr<bool> Committed(Transaction& transaction, bool summed) {
  if (auto status = transaction.Commit(); !status.ok()) return status;
  return summed;
}

}  // namespace

absl::StatusOr<bool> SqliteWarehouse::CatchUpActivity() {
  if (auto status = PrepareActivity(); !status.ok()) return status;
  // `summed`: whether a pass before this one summed a chunk (a pass that gets to the end does).
  for (bool summed = false;; summed = true) {
    auto summed_before = SummedBefore();
    if (!summed_before.ok()) return summed_before.status();
    unsummed_after_.Bind(1, *summed_before);
    auto unsummed = FirstInteger(db_.get(), unsummed_after_);
    if (!unsummed.ok()) return unsummed.status();
    if (!*unsummed) return summed;
    if (sqlite3_db_readonly(db_.get(), "main") == 1) {
      return absl::FailedPreconditionError(fmt::format(
          "the 15-minute totals of '{0}' are behind raw_events, and only a writer can bring "
          "them up to date: make the file writable for this user (e.g. chmod u+w '{0}')",
          sqlite3_db_filename(db_.get(), "main")));
    }
    // A chunk a transaction, so that another writer waits for one chunk at most.
    auto transaction = Transaction::Begin(db_.get());
    if (!transaction.ok()) return transaction.status();
    summed_before =
        SummedBefore();  // Again, under the write lock: another reader may have moved it.
    if (!summed_before.ok()) return summed_before.status();
    chunk_end_.Bind(1, *summed_before);
    chunk_end_.Bind(2, std::int64_t{kSumChunkEvents});
    auto chunk_end = FirstInteger(db_.get(), chunk_end_);
    if (!chunk_end.ok()) return chunk_end.status();
    TimestampMicros end;
    if (*chunk_end) {
      end = std::max(**chunk_end,
                     After(*summed_before));  // More than a chunk at one instant: all of them.
    } else {
      auto latest = LatestAtOrAfter(*summed_before);
      if (!latest.ok()) return latest.status();
      if (!*latest) return Committed(*transaction, summed);
      end = After(**latest);
    }
    // Events at the last instant a timestamp can hold (no valid time: see kMaxTimestamp) are
    // never summed; each read tries again.
    if (end <= *summed_before) return Committed(*transaction, summed);
    sum_events_.Bind(1, *summed_before);
    sum_events_.Bind(2, end);
    if (auto summed = sum_events_.Run(); !summed.ok()) return summed.status();
    if (auto status = SetSummedBefore(end); !status.ok()) return status;
    if (auto status = transaction->Commit(); !status.ok()) return status;
  }
}

absl::StatusOr<std::optional<TimestampMicros>> SqliteWarehouse::LatestAtOrAfter(
    TimestampMicros from) {
  latest_at_or_after_.Bind(1, from);
  return FirstInteger(db_.get(), latest_at_or_after_);
}

// Prepared once, on the first read of the activity, so that a warehouse without the tables
// yet fails with the hint to set it up. sum_events_ comes last: it is set once all are.
absl::Status SqliteWarehouse::PrepareActivity() {
  if (sum_events_.get()) return absl::OkStatus();
  const std::string raw = QuoteIdentifier(tables_.raw_events);
  // Numbers only: a text ts_iso (DML through `query`) sorts after every number in SQLite and
  // would otherwise stand at the end of every range.
  constexpr std::string_view kFrom = "ts_iso >= ?1 AND ts_iso < ''";
  for (auto [statement, sql] : {
           std::pair{&unsummed_after_,
                     fmt::format("SELECT 1 FROM {} WHERE {} LIMIT 1", raw, kFrom)},
           std::pair{&chunk_end_,
                     fmt::format("SELECT ts_iso FROM {} WHERE {} ORDER BY ts_iso LIMIT 1 OFFSET ?2",
                                 raw, kFrom)},
           std::pair{
               &latest_at_or_after_,
               fmt::format("SELECT CAST(max(ts_iso) AS INTEGER) FROM {} WHERE {}", raw, kFrom)},
           std::pair{
               &sum_events_,
               fmt::format(
                   "INSERT INTO {0} (station_id, bucket, pickups, pickup_bikes, dropoffs, "
                   "dropoff_bikes) "
                   "SELECT station_id, {1}, sum(kind = 'pickup'), "
                   "sum(CASE WHEN kind = 'pickup' THEN delta ELSE 0 END), sum(kind = 'dropoff'), "
                   "sum(CASE WHEN kind = 'dropoff' THEN delta ELSE 0 END) FROM {2} "
                   "WHERE ts_iso >= ?1 AND ts_iso < ?2 GROUP BY 1, 2 {3}",
                   QuoteIdentifier(ActivityTable(tables_)),
                   Dialect().bucket_start("ts_iso", kActivityBucket), raw, kAddToTotals)},
       }) {
    auto prepared = Statement::Prepare(db_.get(), sql);
    if (!prepared.ok()) return WithSetupHint(prepared.status());
    *statement = std::move(*prepared);
  }
  return absl::OkStatus();
}

std::string SqliteWarehouse::ActivityUpsertSql() const {
  return fmt::format(
      "INSERT INTO {} (station_id, bucket, pickups, pickup_bikes, dropoffs, dropoff_bikes) "
      "VALUES (?, ?, ?, ?, ?, ?) {}",
      QuoteIdentifier(ActivityTable(tables_)), kAddToTotals);
}

absl::Status SqliteWarehouse::AddActivity(const std::vector<const Event*>& stored) {
  // Summed first, so a batch writes each (station, bucket) once, in key order.
  std::map<std::pair<std::string_view, TimestampMicros>, Activity> sums;
  for (const Event* event : stored)
    sums[{event->station_id, ActivityBucketOf(event->ts)}].Add(*event);
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

absl::StatusOr<std::vector<ActivityBucket>> SqliteWarehouse::StationBuckets(
    std::string_view station_id, TimePeriod period) {
  if (auto caught_up = CatchUpActivity(); !caught_up.ok()) return caught_up.status();
  auto stmt = Statement::Prepare(
      db_.get(),
      fmt::format("SELECT bucket, pickups, pickup_bikes, dropoffs, dropoff_bikes FROM {} "
                  "WHERE station_id = ?1 AND bucket >= ?2 AND bucket < ?3 ORDER BY bucket",
                  QuoteIdentifier(ActivityTable(tables_))));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, station_id);
  stmt->Bind(2, period.from);
  stmt->Bind(3, period.to);
  std::vector<ActivityBucket> buckets;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    buckets.push_back({sqlite3_column_int64(stmt->get(), 0), ActivityAt(stmt->get(), 1)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading a station's activity failed");
  return buckets;
}

absl::StatusOr<std::vector<StationActivity>> SqliteWarehouse::BusiestStations(TimePeriod period,
                                                                              std::size_t limit) {
  if (auto caught_up = CatchUpActivity(); !caught_up.ok()) return caught_up.status();
  auto stmt = Statement::Prepare(
      db_.get(),
      fmt::format(
          "SELECT station_id, sum(pickups), sum(pickup_bikes), sum(dropoffs), sum(dropoff_bikes) "
          "FROM {} WHERE bucket >= ?1 AND bucket < ?2 GROUP BY station_id "
          "ORDER BY sum(pickups) + sum(dropoffs) DESC, station_id LIMIT ?3",
          QuoteIdentifier(ActivityTable(tables_))));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, period.from);
  stmt->Bind(2, period.to);
  stmt->Bind(3, ActivityLimit(limit));
  std::vector<StationActivity> stations;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    stations.push_back({ColumnText(stmt->get(), 0), ActivityAt(stmt->get(), 1)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading the busiest stations failed");
  return stations;
}

absl::StatusOr<std::vector<FeatureRow>> SqliteWarehouse::StationFeatureHistory(
    std::string_view station_id, TimestampMicros from, TimestampMicros to) {
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
    rows.push_back(FeatureRow{std::string(station_id), ColumnText(stmt->get(), 0),
                              ColumnText(stmt->get(), 1), sqlite3_column_double(stmt->get(), 2),
                              sqlite3_column_int64(stmt->get(), 3)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading a station's features failed");
  return rows;
}

absl::StatusOr<std::vector<DeadLetterCount>> SqliteWarehouse::CountDeadLetters(
    DurationMicros bucket, TimePeriod period) {
  auto stmt = Statement::Prepare(
      db_.get(), DeadLetterCountsQuery(QuoteIdentifier(tables_.dead_letter), bucket, Dialect()));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, period.from);
  stmt->Bind(2, period.to);
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
