#include "warehouse/postgres_warehouse.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <span>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "common/status.h"
#include "features/feature_sql.h"
#include "warehouse/postgres_handle.h"
#include "warehouse/postgres_rows.h"
#include "warehouse/sql_text.h"

namespace bikestream {
namespace {

using postgres::Exec;
using postgres::FeatureRowsOf;
using postgres::Integer;
using postgres::KindOf;
using postgres::ResultOf;
using postgres::Text;
using postgres::Param;
using Clock = std::chrono::steady_clock;

constexpr auto kFirstRetryDelay = std::chrono::milliseconds(100);
constexpr auto kMaxRetryDelay = std::chrono::seconds(5);
// Serializes DDL between workers (CREATE … IF NOT EXISTS races otherwise); any fixed number.
constexpr std::int64_t kDdlLock = 0x62696b6573747265;  // "bikestre"
constexpr const char* kStaging = "bikestream_staging";
constexpr const char* kLabels = "bikestream_labels";
// Batches in a row without a stored id before writing goes back to plain COPY.
constexpr int kCleanBatchesToCopy = 4;

// Instants go to the server as RFC 3339 text and come back as exact integer microseconds
// (extract returns numeric since PostgreSQL 14). Only COPY, the hot path, sends integers.
std::string Instant(int parameter) { return fmt::format("CAST(${} AS timestamptz)", parameter); }
std::string Micros(std::string_view column) {
  return fmt::format("CAST(extract(epoch FROM {}) * 1000000 AS bigint)", column);
}

// raw_events' partitions are months of event time (UTC); the index of a month counts from
// year 0.
int MonthIndex(TimestampMicros ts) {
  using namespace std::chrono;
  const year_month_day day{floor<days>(sys_time<microseconds>(microseconds(ts)))};
  return int(day.year()) * 12 + int(unsigned(day.month())) - 1;
}

std::string MonthStart(int index) {
  return fmt::format("{:04d}-{:02d}-01 00:00:00+00", index / 12, index % 12 + 1);
}

// The ledger of claimed event ids beside raw_events (docs/adr/0005).
std::string LedgerTable(const TableNames& t) { return t.raw_events + "_ids"; }

// The tables, as DESIGN.md says (text keys in byte order, COLLATE "C": as SQLite sorts them,
// and cheaper to compare than a locale's order), and the ledger of event ids that makes dedup
// global: a unique index on the partitioned table would have to include the partition key
// (ts_iso), and an event redelivered with another ts would then be stored twice. Why this
// layout: docs/adr/0005-postgres-partitions-and-dedup.md.
std::string SchemaSql(const TableNames& t) {
  return fmt::format(R"sql(
    CREATE TABLE IF NOT EXISTS {raw} (
      event_id   text        COLLATE "C" NOT NULL,
      station_id text        COLLATE "C" NOT NULL,
      ts_iso     timestamptz NOT NULL,
      kind       text        NOT NULL,
      delta      bigint      NOT NULL
    ) PARTITION BY RANGE (ts_iso);
    CREATE INDEX IF NOT EXISTS {raw_by_station} ON {raw} (station_id, ts_iso);
    CREATE INDEX IF NOT EXISTS {raw_by_time} ON {raw} USING brin (ts_iso);
    CREATE TABLE IF NOT EXISTS {ids} (
      event_id text COLLATE "C" NOT NULL PRIMARY KEY
    );
    CREATE TABLE IF NOT EXISTS {features} (
      station_id   text             COLLATE "C" NOT NULL,
      feature_name text             COLLATE "C" NOT NULL,
      window_len   text             COLLATE "C" NOT NULL,
      value        double precision,
      as_of        timestamptz      NOT NULL,
      PRIMARY KEY (station_id, feature_name, window_len, as_of)
    );
    CREATE INDEX IF NOT EXISTS {features_by_time} ON {features} (as_of);
    CREATE TABLE IF NOT EXISTS {dead} (
      id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      first_seen   timestamptz NOT NULL,
      source       text        NOT NULL,
      message_id   text        NOT NULL,
      payload      bytea       NOT NULL,
      reason       text        NOT NULL,
      error        text        NOT NULL,
      publish_time timestamptz,
      UNIQUE (source, message_id)
    );
    CREATE INDEX IF NOT EXISTS {dead_by_reason} ON {dead} (reason);
  )sql",
                     fmt::arg("raw", QuoteIdentifier(t.raw_events)),
                     fmt::arg("ids", QuoteIdentifier(LedgerTable(t))),
                     fmt::arg("features", QuoteIdentifier(t.station_features)),
                     fmt::arg("dead", QuoteIdentifier(t.dead_letter)),
                     fmt::arg("raw_by_station", QuoteIdentifier(t.raw_events + "_by_station_time")),
                     fmt::arg("raw_by_time", QuoteIdentifier(t.raw_events + "_by_time")),
                     fmt::arg("features_by_time", QuoteIdentifier(t.station_features + "_by_time")),
                     fmt::arg("dead_by_reason", QuoteIdentifier(t.dead_letter + "_by_reason")));
}

// The path for batches that hold events already stored: claims the staged ids that are new,
// in event_id order (so that concurrent workers take the same ids in the same order and cannot
// deadlock), stores their events, and returns their positions in the batch.
std::string InsertIfAbsentSql(const TableNames& t) {
  return fmt::format(
      "WITH claimed AS (INSERT INTO {ids} (event_id) SELECT event_id FROM {staging} "
      "ORDER BY event_id ON CONFLICT DO NOTHING RETURNING event_id), "
      "stored AS (INSERT INTO {raw} (event_id, station_id, ts_iso, kind, delta) "
      "SELECT s.event_id, s.station_id, s.ts_iso, s.kind, s.delta FROM {staging} s "
      "JOIN claimed USING (event_id)) "
      "SELECT s.seq FROM {staging} s JOIN claimed USING (event_id)",
      fmt::arg("staging", kStaging), fmt::arg("ids", QuoteIdentifier(LedgerTable(t))),
      fmt::arg("raw", QuoteIdentifier(t.raw_events)));
}

// The batch's positions in event_id order, the first of each repeated id only.
std::vector<std::size_t> FirstOfEachIdSorted(const std::vector<Event>& events) {
  std::vector<std::size_t> order(events.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return events[a].event_id < events[b].event_id; });
  order.erase(std::unique(order.begin(), order.end(),
                          [&](std::size_t a, std::size_t b) { return events[a].event_id == events[b].event_id; }),
              order.end());
  return order;
}

// A transaction that rolls back unless Commit() is called, so every early error return
// leaves the database as it was.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(PGconn* connection) {
    if (auto begun = Exec(connection, "BEGIN"); !begun.ok()) return begun.status();
    return Transaction(connection);
  }
  Transaction(Transaction&& other) noexcept : connection_(std::exchange(other.connection_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (connection_ && PQstatus(connection_) == CONNECTION_OK) PQclear(PQexec(connection_, "ROLLBACK"));
  }
  absl::Status Commit() {
    auto committed = Exec(std::exchange(connection_, nullptr), "COMMIT");
    return committed.status();
  }

 private:
  explicit Transaction(PGconn* connection) : connection_(connection) {}
  PGconn* connection_;
};

absl::Status SessionSetup(PGconn* c) {
  // Timestamps print in UTC, as ISO 8601, whatever the server's defaults; IF NOT EXISTS
  // notices stay quiet.
  return postgres::ExecScript(
      c, "SET TimeZone TO 'UTC'; SET DateStyle TO ISO; SET client_min_messages TO warning");
}

// Runs `ddl` in a transaction of its own, under the advisory lock that serializes DDL between
// workers.
absl::Status RunDdl(PGconn* c, const std::string& ddl) {
  auto transaction = Transaction::Begin(c);
  if (!transaction.ok()) return transaction.status();
  if (auto locked = Exec(c, fmt::format("SELECT pg_advisory_xact_lock({})", kDdlLock)); !locked.ok()) {
    return locked.status();
  }
  if (auto status = postgres::ExecScript(c, ddl); !status.ok()) return status;
  return transaction->Commit();
}

const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) { return status_or.status(); }

// Worth retrying on a new connection: the server was away, or the transaction lost a race.
bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable || status.code() == absl::StatusCode::kAborted;
}

class PostgresWarehouse final : public Warehouse {
 public:
  PostgresWarehouse(std::string url, postgres::Connection connection, TableNames tables,
                    PostgresOptions options)
      : url_(std::move(url)),
        connection_(std::move(connection)),
        tables_(std::move(tables)),
        options_(options),
        raw_(QuoteIdentifier(tables_.raw_events)),
        features_(QuoteIdentifier(tables_.station_features)),
        dead_(QuoteIdentifier(tables_.dead_letter)),
        insert_if_absent_(InsertIfAbsentSql(tables_)),
        copy_ids_(fmt::format("COPY {} (event_id) FROM STDIN WITH (FORMAT binary)",
                              QuoteIdentifier(LedgerTable(tables_)))),
        copy_events_(fmt::format("COPY {} (event_id, station_id, ts_iso, kind, delta) FROM STDIN "
                                 "WITH (FORMAT binary)", raw_)),
        copy_staging_(fmt::format("COPY {} (seq, event_id, station_id, ts_iso, kind, delta) FROM STDIN "
                                  "WITH (FORMAT binary)", kStaging)) {}

  absl::Status Setup() override {
    return Retrying([&](PGconn* c) { return RunDdl(c, SchemaSql(tables_)); });
  }

  // Two batches committing at once: each keeps one server core busy (docs/adr/0005).
  int ConcurrentWriters() const override { return 2; }

  absl::StatusOr<CommitResult> Commit(const Batch& batch) override {
    return Retrying([&](PGconn* c) { return Write(c, batch.events, batch.dead_letters, {}); });
  }

  absl::StatusOr<QueryResult> Query(std::string_view sql) override {
    // Not retried: the statement may not be idempotent.
    if (auto status = EnsureConnected(); !status.ok()) return status;
    auto result = Exec(connection_.get(), sql);
    if (!result.ok()) {
      if (MessageOf(result.status()).find("multiple commands") != std::string_view::npos) {
        return absl::InvalidArgumentError("query: give one SQL statement at a time");
      }
      return Prefixed("query failed", result.status());
    }
    return ResultOf(result->get());
  }

  absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override {
    const std::string sql = fmt::format(
        "SELECT id, {}, source, message_id, payload, reason, error, coalesce({}, 0) FROM {} "
        "WHERE id > CAST($1 AS bigint) AND (CAST($2 AS text) IS NULL OR reason = $2) "
        "ORDER BY id LIMIT CAST($3 AS bigint)",
        Micros("first_seen"), Micros("publish_time"), dead_);
    const std::string after = std::to_string(filter.after_id);
    const std::string limit = std::to_string(filter.limit);
    const std::string reason = filter.reason.value_or("");
    const Param params[] = {{after}, {reason, false, !filter.reason}, {limit}};
    return Read(sql, params, [](const PGresult* rows) {
      std::vector<DeadLetter> letters;
      for (int r = 0; r < PQntuples(rows); ++r) {
        letters.push_back(DeadLetter{Integer(rows, r, 0), Integer(rows, r, 1),
                                     std::string(Text(rows, r, 2)), std::string(Text(rows, r, 3)),
                                     postgres::UnescapeBytes(PQgetvalue(rows, r, 4)),
                                     std::string(Text(rows, r, 5)), std::string(Text(rows, r, 6)),
                                     Integer(rows, r, 7)});
      }
      return letters;
    });
  }

  absl::StatusOr<CommitResult> ResolveDeadLetters(
      const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) override {
    return Retrying([&](PGconn* c) { return Write(c, events, {}, resolved_ids); });
  }

  absl::StatusOr<std::vector<FeatureRow>> ComputeFeatures(const std::vector<FeatureSpec>& features,
                                                          TimestampMicros as_of) override {
    const std::string as_of_text = FormatRfc3339(as_of);
    const Param params[] = {{as_of_text}};
    return Read(PostgresFeatureQuery(features, raw_), params,
                [as_of](const PGresult* rows) { return FeatureRowsOf(rows, as_of); });
  }

  absl::StatusOr<std::size_t> RefreshFeatures(const std::vector<FeatureSpec>& features,
                                              TimestampMicros as_of) override {
    const std::vector<std::string> names = FeatureNames(features);
    const std::string as_of_text = FormatRfc3339(as_of);
    const Param params[] = {{as_of_text}};
    const std::string insert = fmt::format(
        "INSERT INTO {} (station_id, feature_name, window_len, value, as_of) "
        "SELECT station_id, feature_name, window_len, value, {} FROM ({}) computed",
        features_, Instant(1), PostgresFeatureQuery(features, raw_));
    return Retrying([&](PGconn* c) -> absl::StatusOr<std::size_t> {
      auto transaction = Transaction::Begin(c);
      if (!transaction.ok()) return transaction.status();
      if (auto removed = Exec(c, TickDeleteSql(names), params); !removed.ok()) return removed.status();
      auto written = Exec(c, insert, params);
      if (!written.ok()) return written.status();
      if (auto status = transaction->Commit(); !status.ok()) return status;
      return static_cast<std::size_t>(std::stoll(PQcmdTuples(written->get())));
    });
  }

  absl::StatusOr<std::vector<FeatureRow>> StoredFeatures(TimestampMicros as_of) override {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    const std::string sql = fmt::format(
        "SELECT station_id, feature_name, window_len, value FROM {} WHERE as_of = {} "
        "ORDER BY station_id COLLATE \"C\", feature_name COLLATE \"C\", window_len COLLATE \"C\"",
        features_, Instant(1));
    const std::string as_of_text = FormatRfc3339(as_of);
    const Param params[] = {{as_of_text}};
    return Read(sql, params, [as_of](const PGresult* rows) { return FeatureRowsOf(rows, as_of); });
  }

  absl::Status WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                 const std::vector<FeatureTick>& ticks) override {
    const std::string copy = fmt::format(
        "COPY {} (station_id, feature_name, window_len, value, as_of) FROM STDIN", features_);
    return Retrying([&](PGconn* c) -> absl::Status {
      auto transaction = Transaction::Begin(c);
      if (!transaction.ok()) return transaction.status();
      for (const FeatureTick& tick : ticks) {
        const std::string as_of_text = FormatRfc3339(tick.as_of);
        const Param params[] = {{as_of_text}};
        if (auto removed = Exec(c, TickDeleteSql(feature_names), params); !removed.ok()) {
          return removed.status();
        }
        std::string data;
        for (const FeatureRow& row : tick.rows) {
          postgres::AppendCopyField(data, row.station_id);
          data += '\t';
          postgres::AppendCopyField(data, row.feature_name);
          data += '\t';
          postgres::AppendCopyField(data, row.window_len);
          fmt::format_to(std::back_inserter(data), "\t{}\t{}\n", row.value, as_of_text);
        }
        if (auto status = postgres::CopyIn(c, copy, data); !status.ok()) return status;
      }
      return transaction->Commit();
    });
  }

  absl::Status ScanEvents(TimestampMicros after, const std::function<void(const Event&)>& visit) override {
    const std::string sql = fmt::format(
        "SELECT event_id, station_id, {}, kind, delta FROM {} WHERE ts_iso > {} ORDER BY ts_iso",
        Micros("ts_iso"), raw_, Instant(1));
    const std::string after_text = FormatRfc3339(after);
    // Rows stream one at a time, so memory stays flat however many there are. Not retried
    // once rows have been visited.
    if (auto status = EnsureConnected(); !status.ok()) return status;
    PGconn* c = connection_.get();
    const char* values[] = {after_text.c_str()};
    if (!PQsendQueryParams(c, sql.c_str(), 1, nullptr, values, nullptr, nullptr, 0) ||
        !PQsetSingleRowMode(c)) {
      return postgres::ErrorOf(c, nullptr, "reading events failed");
    }
    absl::Status status = absl::OkStatus();
    while (postgres::Result row{PQgetResult(c)}) {
      const ExecStatusType state = PQresultStatus(row.get());
      if (state == PGRES_SINGLE_TUPLE && status.ok()) {
        const PGresult* r = row.get();
        visit(Event{std::string(Text(r, 0, 0)), std::string(Text(r, 0, 1)), Integer(r, 0, 2),
                    KindOf(Text(r, 0, 3)), static_cast<std::int32_t>(Integer(r, 0, 4))});
      } else if (state != PGRES_TUPLES_OK && state != PGRES_SINGLE_TUPLE && status.ok()) {
        status = postgres::ErrorOf(c, row.get(), "reading events failed");
      }
    }
    return status;
  }

  absl::StatusOr<std::optional<TimestampMicros>> LatestEventTime() override {
    return MaxInstant("ts_iso", raw_);
  }

  absl::StatusOr<std::vector<StationKindTotals>> EventTotals(TimestampMicros through) override {
    const std::string sql = fmt::format(
        "SELECT station_id, kind, count(*), sum(delta), min(delta), max(delta), {} FROM {} "
        "WHERE ts_iso <= {} GROUP BY station_id, kind",
        Micros("min(ts_iso)"), raw_, Instant(1));
    const std::string through_text = FormatRfc3339(through);
    const Param params[] = {{through_text}};
    return Read(sql, params, [](const PGresult* rows) {
      std::vector<StationKindTotals> totals;
      for (int r = 0; r < PQntuples(rows); ++r) {
        totals.push_back({std::string(Text(rows, r, 0)), KindOf(Text(rows, r, 1)), Integer(rows, r, 2),
                          Integer(rows, r, 3), static_cast<std::int32_t>(Integer(rows, r, 4)),
                          static_cast<std::int32_t>(Integer(rows, r, 5)), Integer(rows, r, 6)});
      }
      return totals;
    });
  }

  absl::StatusOr<std::optional<TimestampMicros>> LatestFeatureTime() override {
    return MaxInstant("as_of", features_);
  }

  absl::StatusOr<QueryResult> TrainingSet(const TrainingSetRequest& request) override {
    const std::string pivots = FeatureColumns(request.features);
    if (request.labels) {
      return Retrying([&](PGconn* c) { return LabeledTrainingSet(c, *request.labels, pivots); });
    }
    std::string sql;
    std::vector<std::string> instants;
    if (request.range) {
      sql = fmt::format("SELECT f.station_id, f.as_of{} FROM {} f WHERE f.as_of BETWEEN {} AND {} "
                        "GROUP BY f.station_id, f.as_of ORDER BY f.as_of, f.station_id COLLATE \"C\"",
                        pivots, features_, Instant(1), Instant(2));
      instants = {FormatRfc3339(request.range->first), FormatRfc3339(request.range->second)};
    } else {
      sql = fmt::format("SELECT f.station_id, f.as_of{} FROM {} f WHERE f.as_of = {} "
                        "GROUP BY f.station_id, f.as_of ORDER BY f.station_id COLLATE \"C\"",
                        pivots, features_, Instant(1));
      instants = {FormatRfc3339(request.as_of.value_or(0))};
    }
    std::vector<Param> params;
    for (const std::string& instant : instants) params.push_back({instant});
    return Read(sql, params, ResultOf);
  }

 private:
  // Runs `operation` on a live connection. When it fails because the server went away, or
  // lost a race with another worker, the connection is re-opened with backoff and the
  // operation run again, for as long as options_.retry_for. Only for idempotent operations.
  template <typename Operation>
  auto Retrying(Operation operation) -> std::invoke_result_t<Operation, PGconn*> {
    const auto deadline = Clock::now() + options_.retry_for;
    auto delay = std::chrono::duration_cast<Clock::duration>(kFirstRetryDelay);
    bool retried = false;
    while (true) {
      absl::Status status = EnsureConnected();
      if (status.ok()) {
        auto result = operation(connection_.get());
        if (result.ok()) return result;
        status = StatusOf(result);
      }
      if (!IsTransient(status)) return status;
      if (Clock::now() + delay > deadline) {
        return Prefixed(fmt::format("gave up after retrying for {} s",
                                    std::chrono::duration_cast<std::chrono::seconds>(options_.retry_for).count()),
                        status);
      }
      // A lost race is retried at once, the first time; a server away, after a pause.
      if (retried || status.code() == absl::StatusCode::kUnavailable) {
        std::this_thread::sleep_for(delay);
        delay = std::min<Clock::duration>(delay * 2, kMaxRetryDelay);
      }
      retried = true;
    }
  }

  // A read: `sql` with `params`, retried as Retrying says, its rows turned into a value by
  // `convert`.
  template <typename Convert>
  auto Read(const std::string& sql, std::span<const Param> params, Convert convert)
      -> absl::StatusOr<std::invoke_result_t<Convert, const PGresult*>> {
    return Retrying([&](PGconn* c) -> absl::StatusOr<std::invoke_result_t<Convert, const PGresult*>> {
      auto result = Exec(c, sql, params);
      if (!result.ok()) return result.status();
      return convert(result->get());
    });
  }

  absl::Status EnsureConnected() {
    if (connection_ && PQstatus(connection_.get()) == CONNECTION_OK) return absl::OkStatus();
    connection_.reset();
    staging_ready_ = false;
    auto connected = postgres::Connect(url_);
    if (!connected.ok()) return connected.status();
    if (auto status = SessionSetup(connected->get()); !status.ok()) return status;
    connection_ = std::move(*connected);
    return absl::OkStatus();
  }

  static absl::Status Prefixed(std::string_view prefix, const absl::Status& status) {
    return absl::Status(status.code(), fmt::format("{}: {}", prefix, MessageOf(status)));
  }

  absl::StatusOr<CommitResult> Write(PGconn* c, const std::vector<Event>& events,
                                     const std::vector<DeadLetter>& letters,
                                     const std::vector<std::int64_t>& resolved_ids) {
    if (auto status = EnsurePartitions(c, events); !status.ok()) return status;
    if (auto status = EnsureStaging(c); !status.ok()) return status;
    auto transaction = Transaction::Begin(c);
    if (!transaction.ok()) return transaction.status();
    CommitResult result;
    if (auto status = InsertEvents(c, events, &result); !status.ok()) {
      if (MessageOf(status).find("no partition") == std::string_view::npos) return status;
      // Someone dropped a partition this process had made: make it again, and retry.
      months_.clear();
      return Prefixed("a partition was dropped", absl::AbortedError(std::string(MessageOf(status))));
    }
    if (auto status = InsertDeadLetters(c, letters, &result); !status.ok()) return status;
    if (!resolved_ids.empty()) {
      std::string ids = "{";
      for (std::int64_t id : resolved_ids) ids += fmt::format("{}{}", ids.size() > 1 ? "," : "", id);
      ids += "}";
      const Param params[] = {{ids}};
      auto removed = Exec(c, fmt::format("DELETE FROM {} WHERE id = ANY(CAST($1 AS bigint[]))", dead_), params);
      if (!removed.ok()) return removed.status();
    }
    if (auto status = transaction->Commit(); !status.ok()) return status;
    return result;
  }

  // Stores the batch's new events. Most batches hold none that are stored already: their ids
  // and rows go by COPY straight into the ledger and raw_events (a COPY inserts a page of rows
  // at a time; INSERT … SELECT one). When the ledger refuses an id, the batch goes again by
  // the staging table, which skips the ids stored already, and so do the batches after it
  // until kCleanBatchesToCopy in a row bring nothing stored before.
  absl::Status InsertEvents(PGconn* c, const std::vector<Event>& events, CommitResult* result) {
    const std::vector<std::size_t> firsts = FirstOfEachIdSorted(events);
    result->newly_stored.assign(events.size(), false);
    result->stored = 0;
    result->duplicates = events.size();
    if (events.empty()) return absl::OkStatus();
    if (!expect_stored_ids_) {
      absl::Status copied = CopyNewEvents(c, events, firsts);
      if (copied.ok()) {
        for (std::size_t i : firsts) result->newly_stored[i] = true;
        result->stored = firsts.size();
        result->duplicates = events.size() - firsts.size();
        return absl::OkStatus();
      }
      if (copied.code() != absl::StatusCode::kAlreadyExists) return copied;
      expect_stored_ids_ = true;
      clean_batches_ = 0;
      return absl::AbortedError("the batch holds events stored before: writing it again, skipping those");
    }
    if (auto status = InsertIfAbsent(c, events, firsts, result); !status.ok()) return status;
    const bool clean = result->stored == firsts.size();
    clean_batches_ = clean ? clean_batches_ + 1 : 0;
    if (clean_batches_ >= kCleanBatchesToCopy) expect_stored_ids_ = false;
    return absl::OkStatus();
  }

  // COPY of the ids into the ledger (it fails with kAlreadyExists if one is there) and of the
  // events into raw_events, in station and time order, which is the order of its index.
  absl::Status CopyNewEvents(PGconn* c, const std::vector<Event>& events, const std::vector<std::size_t>& firsts) {
    postgres::BinaryCopy ids;
    for (std::size_t i : firsts) {
      ids.BeginRow(1);
      ids.AddText(events[i].event_id);
    }
    if (auto status = postgres::CopyIn(c, copy_ids_, ids.Finish()); !status.ok()) return status;
    std::vector<std::size_t> by_station = firsts;
    std::sort(by_station.begin(), by_station.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(events[a].station_id, events[a].ts) < std::tie(events[b].station_id, events[b].ts);
    });
    postgres::BinaryCopy rows;
    for (std::size_t i : by_station) AddEventRow(rows, events[i]);
    return postgres::CopyIn(c, copy_events_, rows.Finish());
  }

  absl::Status InsertIfAbsent(PGconn* c, const std::vector<Event>& events, const std::vector<std::size_t>& firsts,
                              CommitResult* result) {
    postgres::BinaryCopy rows;
    for (std::size_t i : firsts) {
      rows.BeginRow(6);
      rows.AddInt4(static_cast<std::int32_t>(i));
      AddEventFields(rows, events[i]);
    }
    if (auto status = postgres::CopyIn(c, copy_staging_, rows.Finish()); !status.ok()) return status;
    auto stored = Exec(c, insert_if_absent_);
    if (!stored.ok()) return stored.status();
    for (int r = 0; r < PQntuples(stored->get()); ++r) {
      result->newly_stored[Integer(stored->get(), r, 0)] = true;
    }
    result->stored = PQntuples(stored->get());
    result->duplicates = events.size() - result->stored;
    return absl::OkStatus();
  }

  static void AddEventRow(postgres::BinaryCopy& rows, const Event& e) {
    rows.BeginRow(5);
    AddEventFields(rows, e);
  }

  static void AddEventFields(postgres::BinaryCopy& rows, const Event& e) {
    rows.AddText(e.event_id);
    rows.AddText(e.station_id);
    rows.AddTimestampTz(e.ts);
    rows.AddText(KindName(e.kind));
    rows.AddInt8(e.delta);
  }

  // Dead letters are rare: one statement each. Their text columns must be valid UTF-8, so the
  // payload, verbatim, is bytea and the rest is made valid.
  absl::Status InsertDeadLetters(PGconn* c, const std::vector<DeadLetter>& letters, CommitResult* result) {
    const std::string sql = fmt::format(
        "INSERT INTO {} (first_seen, source, message_id, payload, reason, error, publish_time) "
        "VALUES ({}, $2, $3, $4, $5, $6, {}) ON CONFLICT (source, message_id) DO NOTHING",
        dead_, Instant(1), Instant(7));
    for (const DeadLetter& letter : letters) {
      const std::string first_seen = FormatRfc3339(letter.first_seen);
      const std::string publish_time = FormatRfc3339(letter.publish_time);
      const std::string source = postgres::ValidUtf8(letter.source);
      const std::string message_id = postgres::ValidUtf8(letter.message_id);
      const std::string error = postgres::ValidUtf8(letter.error);
      const Param params[] = {{first_seen},   {source},
                              {message_id},   {letter.payload, /*bytes=*/true},
                              {letter.reason}, {error},
                              {publish_time, false, letter.publish_time == 0}};
      if (auto inserted = Exec(c, sql, params); !inserted.ok()) return inserted.status();
      ++result->dead_lettered;
    }
    return absl::OkStatus();
  }

  // Creates the month partitions the events fall in that this process has not seen yet, each
  // in its own short transaction, before the batch's transaction (DDL takes a strong lock on
  // the parent table; holding it across a batch would stall the other workers).
  absl::Status EnsurePartitions(PGconn* c, const std::vector<Event>& events) {
    std::set<int> missing;
    for (const Event& e : events) {
      const int month = MonthIndex(e.ts);
      if (!months_.contains(month)) missing.insert(month);
    }
    for (int month : missing) {
      const std::string partition = QuoteIdentifier(
          fmt::format("{}_p{:04d}{:02d}", tables_.raw_events, month / 12, month % 12 + 1));
      if (auto status = RunDdl(
              c, fmt::format("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ('{}') TO ('{}')",
                             partition, raw_, MonthStart(month), MonthStart(month + 1)));
          !status.ok()) {
        return status;
      }
      months_.insert(month);
    }
    return absl::OkStatus();
  }

  // The staging table lives as long as the session; its rows as long as a transaction. Made
  // outside the batch's transaction, which a rollback would take it away with.
  absl::Status EnsureStaging(PGconn* c) {
    if (staging_ready_) return absl::OkStatus();
    auto status = postgres::ExecScript(
        c, fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (seq integer, event_id text COLLATE \"C\", "
                       "station_id text, ts_iso timestamptz, kind text, delta bigint) ON COMMIT DELETE ROWS",
                       kStaging));
    staging_ready_ = status.ok();
    return status;
  }

  std::string TickDeleteSql(const std::vector<std::string>& feature_names) const {
    return fmt::format("DELETE FROM {} WHERE as_of = {} AND feature_name IN ({})", features_,
                       Instant(1), FeatureNameList(feature_names));
  }

  absl::StatusOr<std::optional<TimestampMicros>> MaxInstant(std::string_view column, const std::string& table) {
    const std::string sql = fmt::format("SELECT {} FROM {}", Micros(fmt::format("max({})", column)), table);
    return Read(sql, {}, [](const PGresult* rows) {
      return PQgetisnull(rows, 0, 0) ? std::optional<TimestampMicros>()
                                     : std::optional<TimestampMicros>(Integer(rows, 0, 0));
    });
  }

  // The entity rows go into a temporary table, so the point-in-time join runs on the server.
  absl::StatusOr<QueryResult> LabeledTrainingSet(PGconn* c, const TrainingSetRequest::Labels& labels,
                                                 const std::string& pivots) {
    std::string columns, label_select, label_group;
    for (std::size_t i = 0; i < labels.columns.size(); ++i) {
      columns += fmt::format(", label{} text", i);
      label_select += fmt::format(", l.label{} AS {}", i, QuoteIdentifier(labels.columns[i]));
      label_group += fmt::format(", l.label{}", i);
    }
    if (auto status = postgres::ExecScript(
            c, fmt::format("DROP TABLE IF EXISTS pg_temp.{0}; CREATE TEMP TABLE {0} (row integer "
                           "PRIMARY KEY, station_id text, ts timestamptz{1})",
                           kLabels, columns));
        !status.ok()) {
      return status;
    }
    std::string data;
    for (std::size_t r = 0; r < labels.rows.size(); ++r) {
      const auto& row = labels.rows[r];
      fmt::format_to(std::back_inserter(data), "{}\t", r);
      postgres::AppendCopyField(data, postgres::ValidUtf8(row.station_id));
      fmt::format_to(std::back_inserter(data), "\t{}", FormatRfc3339(row.ts));
      for (std::size_t i = 0; i < labels.columns.size(); ++i) {
        data += '\t';
        if (i < row.labels.size()) {
          postgres::AppendCopyField(data, postgres::ValidUtf8(row.labels[i]));
        } else {
          data += "\\N";
        }
      }
      data += '\n';
    }
    if (auto status = postgres::CopyIn(c, fmt::format("COPY {} FROM STDIN", kLabels), data); !status.ok()) {
      return status;
    }
    auto result = Exec(
        c, fmt::format("SELECT l.station_id, l.ts, f.as_of{0}{1} FROM {2} l "
                       "LEFT JOIN LATERAL (SELECT max(g.as_of) AS as_of FROM {3} g "
                       "WHERE g.station_id = l.station_id AND g.as_of <= l.ts) latest ON true "
                       "LEFT JOIN {3} f ON f.station_id = l.station_id AND f.as_of = latest.as_of "
                       "GROUP BY l.row, l.station_id, l.ts, f.as_of{4} ORDER BY l.row",
                       label_select, pivots, kLabels, features_, label_group));
    if (!result.ok()) return result.status();
    return ResultOf(result->get());
  }

  const std::string url_;
  postgres::Connection connection_;
  const TableNames tables_;
  const PostgresOptions options_;
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

}  // namespace

absl::StatusOr<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(const std::string& url,
                                                                 const TableNames& tables,
                                                                 PostgresOptions options) {
  auto connection = postgres::Connect(url);
  if (!connection.ok()) return connection.status();
  if (auto status = SessionSetup(connection->get()); !status.ok()) return status;
  return std::make_unique<PostgresWarehouse>(url, std::move(*connection), tables, options);
}

}  // namespace bikestream
