// The PostgreSQL warehouse's class, private to this folder. Its methods are defined by
// responsibility: schema.cc (connections, tables, partitions), dialect.cc (its SQL dialect),
// writes.cc (events and dead letters), feature_sql.cc (the feature store and its SQL), reads.cc
// (queries, dead letters, events), stations.cc (the stations table), activity.cc (the console's
// reads).
#pragma once

#include <fmt/format.h>

#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "common/retry.h"
#include "common/status.h"
#include "warehouse/postgres/postgres_handle.h"
#include "warehouse/postgres/postgres_warehouse.h"
#include "warehouse/sql/sql_dialect.h"

namespace bikestream::postgres {

// Instants go to the server as RFC 3339 text and come back as exact integer microseconds
// (extract returns numeric since PostgreSQL 14). Only COPY, the hot path, sends integers.
std::string Instant(int parameter);
std::string Micros(std::string_view column);

// PostgreSQL's dialect of the queries the SQL engines share (dialect.cc).
const SqlDialect& Dialect();

// Worth retrying on a new connection: the server was away, or the transaction lost a race.
bool IsTransient(const absl::Status& status);

// A transaction that rolls back unless Commit() is called, so every early error return
// leaves the database as it was.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(PGconn* connection);
  Transaction(Transaction&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  absl::Status Commit();

 private:
  explicit Transaction(PGconn* connection) : connection_(connection) {}
  PGconn* connection_;
};

class PostgresWarehouse final : public Warehouse {
 public:
  PostgresWarehouse(std::string url, Connection connection, TableNames tables,
                    PostgresOptions options);

  absl::Status Setup() override;

  // Two batches committing at once: each keeps one server core busy (docs/adr/0005).
  int ConcurrentWriters() const override { return 2; }
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

 private:
  // Runs `operation` on a live connection. When it fails because the server went away, or
  // lost a race with another worker, the connection is re-opened with backoff and the
  // operation run again, for as long as options_.retry_for. Only for idempotent operations.
  template <typename Operation>
  auto Retrying(Operation operation) -> std::invoke_result_t<Operation, PGconn*> {
    using Result = std::invoke_result_t<Operation, PGconn*>;
    auto once = [&]() -> Result {
      if (absl::Status status = EnsureConnected(); !status.ok()) return status;
      return operation(connection_.get());
    };
    bool raced = false;
    Result result = Retry(*options_.clock, retry_policy_, IsTransient, [&]() -> Result {
      Result attempt = once();
      // A lost race is retried at once, the first time; a server away, after a pause.
      if (!raced && retry_internal::StatusOf(attempt).code() == absl::StatusCode::kAborted) {
        raced = true;
        attempt = once();
      }
      return attempt;
    });
    const absl::Status& status = retry_internal::StatusOf(result);
    if (status.ok() || !IsTransient(status)) return result;
    return Prefixed(
        fmt::format("gave up after retrying for {} s", options_.retry_for / kMicrosPerSecond),
        status);
  }

  // A read: `sql` with `params`, retried as Retrying says, its rows turned into a value by
  // `convert`.
  template <typename Convert>
  auto Read(const std::string& sql, std::span<const Param> params, Convert convert)
      -> absl::StatusOr<std::invoke_result_t<Convert, const PGresult*>> {
    return Retrying(
        [&](PGconn* c) -> absl::StatusOr<std::invoke_result_t<Convert, const PGresult*>> {
          auto result = Exec(c, sql, params);
          if (!result.ok()) return result.status();
          return convert(result->get());
        });
  }

  // schema.cc
  absl::Status EnsureConnected();
  absl::Status EnsurePartitions(PGconn* c, const std::vector<Event>& events);
  absl::Status EnsureStaging(PGconn* c);
  // writes.cc
  absl::StatusOr<CommitResult> Write(PGconn* c, const std::vector<Event>& events,
                                     const std::vector<DeadLetter>& letters,
                                     const std::vector<std::int64_t>& resolved_ids);
  absl::Status InsertEvents(PGconn* c, const std::vector<Event>& events, CommitResult* result);
  absl::Status CopyNewEvents(PGconn* c, const std::vector<Event>& events,
                             const std::vector<std::size_t>& firsts);
  absl::Status InsertIfAbsent(PGconn* c, const std::vector<Event>& events,
                              const std::vector<std::size_t>& firsts, CommitResult* result);
  absl::Status InsertDeadLetters(PGconn* c, const std::vector<DeadLetter>& letters,
                                 CommitResult* result);
  // feature_sql.cc
  std::string TickDeleteSql(const std::vector<std::string>& feature_names) const;
  absl::StatusOr<QueryResult> LabeledTrainingSet(PGconn* c,
                                                 const std::vector<std::string>& features,
                                                 const TrainingSetRequest::Labels& labels);
  // reads.cc
  absl::StatusOr<std::optional<TimestampMicros>> MaxInstant(std::string_view column,
                                                            const std::string& table);

  const std::string url_;
  Connection connection_;
  const TableNames tables_;
  const PostgresOptions options_;
  const RetryPolicy retry_policy_;
  const std::string raw_;
  const std::string features_;
  const std::string dead_;
  const std::string insert_if_absent_;
  const std::string copy_ids_;
  const std::string copy_events_;
  const std::string copy_staging_;
  std::set<int> months_;  // Partitions known to exist.
  bool staging_ready_ = false;
  bool expect_stored_ids_ = false;  // Batches go by the staging table (see InsertEvents).
  int clean_batches_ = 0;           // Batches in a row without an id stored before.
};

// The longest table name accepted: 63 bytes (PostgreSQL's identifier limit) less the longest
// suffix of a derived name (schema.cc), so partition and index names are never cut.
inline constexpr std::size_t kMaxTableNameBytes = 47;

// Names private to the connection's session.
inline constexpr const char* kStaging = "bikestream_staging";
inline constexpr const char* kLabels = "bikestream_labels";

// The ledger of claimed event ids beside raw_events (docs/adr/0005).
std::string LedgerTable(const TableNames& t);

}  // namespace bikestream::postgres
