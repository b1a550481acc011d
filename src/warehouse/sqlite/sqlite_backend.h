// The SQLite warehouse's class, private to this folder. Its methods are defined by
// responsibility: schema.cc (opening, tables), dialect.cc (its SQL dialect), writes.cc (events and
// dead letters), feature_sql.cc (the feature store and its SQL), reads.cc (queries, dead letters,
// events), stations.cc (the stations table), readable_time.cc (timestamps as a person's SQL sees
// them), activity.cc (the 15-minute activity table and its reads).
#pragma once

#include <functional>
#include <limits>
#include <string>

#include "warehouse/sql/sql_dialect.h"
#include "warehouse/sqlite/sqlite_handle.h"
#include "warehouse/warehouse.h"

namespace bikestream::sqlite {

// SQLite's dialect of the queries the SQL engines share (dialect.cc).
const SqlDialect& Dialect();

class SqliteWarehouse final : public Warehouse {
 public:
  SqliteWarehouse(Connection db, TableNames tables)
      : db_(std::move(db)), tables_(std::move(tables)) {}

  absl::Status Setup() override;

  absl::StatusOr<CommitResult> Commit(const Batch& batch) override;
  absl::StatusOr<CommitResult> ResolveDeadLetters(
      const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) override;

  absl::StatusOr<std::vector<FeatureRow>> ComputeFeatures(const std::vector<FeatureSpec>& features,
                                                          TimestampMicros as_of) override;
  absl::StatusOr<std::size_t> RefreshFeatures(const std::vector<FeatureSpec>& features,
                                              TimestampMicros as_of) override;
  absl::StatusOr<std::vector<FeatureRow>> StoredFeatures(TimestampMicros as_of) override;
  absl::StatusOr<std::vector<FeatureRow>> StationFeatureHistory(std::string_view station_id,
                                                                TimestampMicros from,
                                                                TimestampMicros to) override;
  absl::Status WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                 const std::vector<FeatureTick>& ticks) override;
  absl::StatusOr<std::optional<TimestampMicros>> LatestFeatureTime() override;
  absl::StatusOr<QueryResult> TrainingSet(const TrainingSetRequest& request) override;

  absl::StatusOr<QueryResult> Query(std::string_view sql) override;
  absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override;
  absl::StatusOr<std::vector<DeadLetterCount>> CountDeadLetters(DurationMicros bucket,
                                                                TimePeriod period) override;
  absl::Status ScanEvents(TimestampMicros after,
                          const std::function<void(const Event&)>& visit) override;
  absl::StatusOr<std::optional<TimestampMicros>> LatestEventTime() override;
  absl::StatusOr<std::vector<StationTotals>> EventTotals(TimestampMicros through) override;

  absl::Status UpsertStations(const std::vector<Station>& stations) override;
  absl::StatusOr<std::vector<Station>> ListStations() override;
  absl::StatusOr<std::vector<ActivityBucket>> StationBuckets(std::string_view station_id,
                                                             TimePeriod period) override;
  absl::StatusOr<std::vector<StationActivity>> BusiestStations(TimePeriod period,
                                                               std::size_t limit) override;
  absl::StatusOr<bool> CatchUp() override { return CatchUpActivity(); }

 private:
  // schema.cc
  absl::Status AddMissingColumns();
  // writes.cc
  absl::Status PrepareWrites();
  // One transaction: `events` inserted, then `rest` (dead letters), committed.
  absl::StatusOr<CommitResult> WriteWithEvents(
      const std::vector<Event>& events, const std::function<absl::Status(CommitResult*)>& rest);
  enum class InsertMode { kInBulk, kOneByOne };
  // False when, in bulk, a statement stored some of its rows but not all: SQLite does not say
  // which, so the transaction is to be rolled back and run one by one.
  absl::StatusOr<bool> InsertEvents(const std::vector<Event>& events, InsertMode mode,
                                    CommitResult* result);
  absl::StatusOr<int> InsertInBulk(const Event* events);
  // activity.cc
  absl::StatusOr<bool> HasTable(const std::string& name);
  // The activity's mark for a new table (nothing summed yet) or one kept by an older version.
  absl::Status SetUpActivity(bool had_totals, bool had_state);
  absl::Status SetSummedBefore(TimestampMicros summed_before);
  absl::StatusOr<TimestampMicros> SummedBefore();
  // The latest ts_iso at or after `from`, if any.
  absl::StatusOr<std::optional<TimestampMicros>> LatestAtOrAfter(TimestampMicros from);
  // Sums the events at and after the mark into the totals, and moves the mark past them. True
  // when there were any.
  absl::StatusOr<bool> CatchUpActivity();
  absl::Status PrepareActivity();
  std::string ActivityUpsertSql() const;
  // Adds the events a commit stored new before the mark to their buckets.
  absl::Status AddActivity(const std::vector<const Event*>& stored);
  // feature_sql.cc
  absl::StatusOr<QueryResult> LabeledTrainingSet(const std::vector<std::string>& features,
                                                 const TrainingSetRequest::Labels& labels);
  absl::StatusOr<std::vector<FeatureRow>> ReadFeatureRows(Statement& stmt, TimestampMicros as_of,
                                                          std::string_view failure);
  absl::StatusOr<Statement> PrepareTickDelete(const std::vector<std::string>& feature_names);
  // reads.cc
  using StatementPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;
  // `sql` prepared, refused when it holds more than one statement; null when it holds none.
  absl::StatusOr<StatementPtr> PrepareOne(std::string_view sql);
  absl::StatusOr<QueryResult> Rows(sqlite3_stmt* stmt);
  absl::StatusOr<std::optional<TimestampMicros>> MaxOf(const char* column,
                                                       const std::string& table);

  Connection db_;
  TableNames tables_;
  Statement insert_event_;
  Statement insert_dead_letter_;
  Statement delete_dead_letter_;
  Statement insert_events_in_bulk_;
  Statement upsert_activity_;
  Statement read_summed_before_;
  Statement unsummed_after_;
  Statement chunk_end_;
  Statement latest_at_or_after_;
  Statement sum_events_;
};

// Rows an insert statement takes in bulk: each statement is a fixed cost that 64 rows share.
inline constexpr std::size_t kEventsPerInsert = 64;
// raw_events' columns, each a parameter of an insert.
inline constexpr int kEventColumns = 5;
// Events summed into the activity a transaction, at most (but all of one instant at least).
inline constexpr std::size_t kSumChunkEvents = 100'000;
// The mark of a table to which nothing has been added.
inline constexpr TimestampMicros kNothingSummed = std::numeric_limits<TimestampMicros>::min();

// activity.cc: the activity tables' names (raw_events' with "_activity", "_activity_state") and
// their CREATE.
std::string ActivityTable(const TableNames& tables);
std::string ActivityStateTable(const TableNames& tables);
std::string ActivitySchemaSql(const TableNames& tables);

// `status` with a hint to run `bikestream setup` when a table is missing.
absl::Status WithSetupHint(absl::Status status);

// A column of the current row as text.
std::string ColumnText(sqlite3_stmt* stmt, int column);

// A write transaction that rolls back unless Commit() is called, so every early error return
// leaves the database as it was.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(sqlite3* db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  absl::Status Commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace bikestream::sqlite
