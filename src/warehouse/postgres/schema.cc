// Connections, tables and partitions of the PostgreSQL warehouse.
#include <fmt/format.h>

#include <chrono>

#include "absl/status/status.h"
#include "common/redact.h"
#include "warehouse/postgres/postgres_backend.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/table_names.h"

namespace bikestream {
namespace postgres {
namespace {

constexpr DurationMicros kFirstRetryDelay = 100 * kMicrosPerMilli;
constexpr DurationMicros kMaxRetryDelay = 5 * kMicrosPerSecond;
// Serializes DDL between workers (CREATE … IF NOT EXISTS races otherwise); any fixed number.
constexpr std::int64_t kDdlLock = 0x62696b6573747265;  // "bikestre"

// The longest suffix added to a table's name for a name of its own; PostgreSQL cuts
// identifiers at 63 bytes, so table names are kept short enough for every derived name
// (kMaxTableNameBytes) and none is cut or collides with another.
constexpr std::string_view kLongestSuffix = "_by_station_time";
static_assert(kMaxTableNameBytes + kLongestSuffix.size() == 63);

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

// The tables, as docs/design.md says (text keys in byte order, COLLATE "C": as SQLite sorts them,
// and cheaper to compare than a locale's order), and the ledger of event ids that makes dedup
// global: a unique index on the partitioned table would have to include the partition key
// (ts_iso), and an event redelivered with another ts would then be stored twice. Why this
// layout: docs/adr/0005-postgres-partitions-and-dedup.md.
std::string SchemaSql(const TableNames& t) {
  return fmt::format(
      R"sql(
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
    CREATE TABLE IF NOT EXISTS {stations} (
      station_id   text             COLLATE "C" NOT NULL PRIMARY KEY,
      name         text             NOT NULL,
      lat          double precision NOT NULL,
      lon          double precision NOT NULL,
      capacity     bigint,
      last_updated timestamptz      NOT NULL
    );
  )sql",
      fmt::arg("stations", QuoteIdentifier(t.stations)),
      fmt::arg("raw", QuoteIdentifier(t.raw_events)),
      fmt::arg("ids", QuoteIdentifier(LedgerTable(t))),
      fmt::arg("features", QuoteIdentifier(t.station_features)),
      fmt::arg("dead", QuoteIdentifier(t.dead_letter)),
      fmt::arg("raw_by_station", QuoteIdentifier(t.raw_events + std::string(kLongestSuffix))),
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

absl::Status SessionSetup(PGconn* c) {
  // Timestamps print in UTC, as ISO 8601, whatever the server's defaults; IF NOT EXISTS
  // notices stay quiet.
  return ExecScript(
      c, "SET TimeZone TO 'UTC'; SET DateStyle TO ISO; SET client_min_messages TO warning");
}

// Runs `ddl` in a transaction of its own, under the advisory lock that serializes DDL between
// workers.
absl::Status RunDdl(PGconn* c, const std::string& ddl) {
  auto transaction = Transaction::Begin(c);
  if (!transaction.ok()) return transaction.status();
  if (auto locked = Exec(c, fmt::format("SELECT pg_advisory_xact_lock({})", kDdlLock));
      !locked.ok()) {
    return locked.status();
  }
  if (auto status = ExecScript(c, ddl); !status.ok()) return status;
  return transaction->Commit();
}

}  // namespace

std::string Instant(int parameter) { return fmt::format("CAST(${} AS timestamptz)", parameter); }

std::string Micros(std::string_view column) {
  return fmt::format("CAST(extract(epoch FROM {}) * 1000000 AS bigint)", column);
}

bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kAborted;
}

std::string LedgerTable(const TableNames& t) { return t.raw_events + "_ids"; }

absl::StatusOr<Transaction> Transaction::Begin(PGconn* connection) {
  if (auto begun = Exec(connection, "BEGIN"); !begun.ok()) return begun.status();
  return Transaction(connection);
}

Transaction::~Transaction() {
  if (connection_ && PQstatus(connection_) == CONNECTION_OK)
    PQclear(PQexec(connection_, "ROLLBACK"));
}

absl::Status Transaction::Commit() {
  return Exec(std::exchange(connection_, nullptr), "COMMIT").status();
}

PostgresWarehouse::PostgresWarehouse(std::string url, Connection connection, TableNames tables,
                                     PostgresOptions options)
    : url_(std::move(url)),
      connection_(std::move(connection)),
      tables_(std::move(tables)),
      options_(options),
      retry_policy_{.initial_backoff = kFirstRetryDelay,
                    .max_backoff = kMaxRetryDelay,
                    .jitter = false,
                    .max_duration = options.retry_for,
                    .on_retry = ReportRetries(fmt::format("PostgreSQL at {}", RedactUrl(url_)),
                                              options.retry_for)},
      raw_(QuoteIdentifier(tables_.raw_events)),
      features_(QuoteIdentifier(tables_.station_features)),
      dead_(QuoteIdentifier(tables_.dead_letter)),
      insert_if_absent_(InsertIfAbsentSql(tables_)),
      copy_ids_(fmt::format("COPY {} (event_id) FROM STDIN WITH (FORMAT binary)",
                            QuoteIdentifier(LedgerTable(tables_)))),
      copy_events_(fmt::format("COPY {} (event_id, station_id, ts_iso, kind, delta) FROM STDIN "
                               "WITH (FORMAT binary)",
                               raw_)),
      copy_staging_(
          fmt::format("COPY {} (seq, event_id, station_id, ts_iso, kind, delta) FROM STDIN "
                      "WITH (FORMAT binary)",
                      kStaging)) {}

absl::Status PostgresWarehouse::Setup() {
  return Retrying([&](PGconn* c) { return RunDdl(c, SchemaSql(tables_)); });
}

absl::Status PostgresWarehouse::EnsureConnected() {
  if (connection_ && PQstatus(connection_.get()) == CONNECTION_OK) return absl::OkStatus();
  connection_.reset();
  staging_ready_ = false;
  auto connected = Connect(url_);
  if (!connected.ok()) return connected.status();
  if (auto status = SessionSetup(connected->get()); !status.ok()) return status;
  connection_ = std::move(*connected);
  return absl::OkStatus();
}

// Creates the month partitions the events fall in that this process has not seen yet, each
// in its own short transaction, before the batch's transaction (DDL takes a strong lock on
// the parent table; holding it across a batch would stall the other workers).
absl::Status PostgresWarehouse::EnsurePartitions(PGconn* c, const std::vector<Event>& events) {
  std::set<int> missing;
  for (const Event& e : events) {
    const int month = MonthIndex(e.ts);
    if (!months_.contains(month)) missing.insert(month);
  }
  for (int month : missing) {
    const std::string partition = QuoteIdentifier(
        fmt::format("{}_p{:04d}{:02d}", tables_.raw_events, month / 12, month % 12 + 1));
    if (auto status =
            RunDdl(c, fmt::format("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM "
                                  "('{}') TO ('{}')",
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
absl::Status PostgresWarehouse::EnsureStaging(PGconn* c) {
  if (staging_ready_) return absl::OkStatus();
  auto status = ExecScript(
      c, fmt::format(
             "CREATE TEMP TABLE IF NOT EXISTS {} (seq integer, event_id text COLLATE \"C\", "
             "station_id text, ts_iso timestamptz, kind text, delta bigint) ON COMMIT DELETE ROWS",
             kStaging));
  staging_ready_ = status.ok();
  return status;
}

}  // namespace postgres

absl::StatusOr<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(std::string_view url,
                                                                 const TableNames& tables,
                                                                 OpenMode) {
  return OpenPostgresWarehouse(std::string(url), tables, PostgresOptions{});
}

absl::StatusOr<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(const std::string& url,
                                                                 const TableNames& tables,
                                                                 PostgresOptions options) {
  if (!options.clock) options.clock = &SystemClock();
  if (auto status = CheckTableNames(tables, postgres::kMaxTableNameBytes, "PostgreSQL");
      !status.ok())
    return status;
  auto connection = postgres::Connect(url);
  if (!connection.ok()) return connection.status();
  if (auto status = postgres::SessionSetup(connection->get()); !status.ok()) return status;
  return std::make_unique<postgres::PostgresWarehouse>(url, std::move(*connection), tables,
                                                       options);
}

}  // namespace bikestream
