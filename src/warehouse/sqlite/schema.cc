// Opening the SQLite warehouse and making its tables.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/status/status.h"
#include "common/status.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/table_names.h"
#include "warehouse/sqlite/readable_time.h"
#include "warehouse/sqlite/sqlite_backend.h"
#include "warehouse/sqlite/sqlite_warehouse.h"

namespace bikestream {
namespace sqlite {
namespace {

// Bounded so memory stays flat however large the table grows.
constexpr int kCacheKibibytes = 32 * 1024;
constexpr int kBusyTimeoutMillis = 10'000;
// SQLite sets no limit on names; this one keeps them printable in a table of results.
constexpr std::size_t kMaxTableNameBytes = 128;

// Timestamps are INTEGER microseconds since the epoch (UTC) in columns declared TIMESTAMP,
// which Query() shows as RFC 3339 (readable_time.h). Why this schema:
// docs/adr/0003-sqlite-schema.md.
std::string SchemaSql(const TableNames& t) {
  const std::string raw = QuoteIdentifier(t.raw_events);
  const std::string features = QuoteIdentifier(t.station_features);
  const std::string dead = QuoteIdentifier(t.dead_letter);
  return fmt::format(
      R"sql(
    CREATE TABLE IF NOT EXISTS {raw} (
      event_id   TEXT      NOT NULL PRIMARY KEY,
      station_id TEXT      NOT NULL,
      ts_iso     TIMESTAMP NOT NULL,
      kind       TEXT      NOT NULL,
      delta      INTEGER   NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS {raw_index} ON {raw} (ts_iso, station_id, kind, delta);
    CREATE TABLE IF NOT EXISTS {features} (
      station_id   TEXT      NOT NULL,
      feature_name TEXT      NOT NULL,
      window_len   TEXT      NOT NULL,
      value        REAL,
      as_of        TIMESTAMP NOT NULL,
      PRIMARY KEY (station_id, feature_name, window_len, as_of)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS {features_index} ON {features} (station_id, as_of);
    CREATE INDEX IF NOT EXISTS {features_time_index} ON {features} (as_of);
    CREATE TABLE IF NOT EXISTS {dead} (
      id         INTEGER   PRIMARY KEY,
      first_seen TIMESTAMP NOT NULL,
      source     TEXT      NOT NULL,
      message_id TEXT      NOT NULL,
      payload    TEXT      NOT NULL,
      reason     TEXT      NOT NULL,
      error      TEXT      NOT NULL,
      publish_time TIMESTAMP,
      UNIQUE (source, message_id)
    );
    CREATE INDEX IF NOT EXISTS {dead_index} ON {dead} (reason);
    CREATE TABLE IF NOT EXISTS {stations} (
      station_id   TEXT      NOT NULL PRIMARY KEY,
      name         TEXT      NOT NULL,
      lat          REAL      NOT NULL,
      lon          REAL      NOT NULL,
      capacity     INTEGER,
      last_updated TIMESTAMP NOT NULL
    ) WITHOUT ROWID;
  )sql",
      fmt::arg("stations", QuoteIdentifier(t.stations)), fmt::arg("raw", raw),
      fmt::arg("features", features), fmt::arg("dead", dead),
      fmt::arg("raw_index", QuoteIdentifier(t.raw_events + "_by_station_time")),
      fmt::arg("dead_index", QuoteIdentifier(t.dead_letter + "_by_reason")),
      fmt::arg("features_index", QuoteIdentifier(t.station_features + "_by_station_time")),
      fmt::arg("features_time_index", QuoteIdentifier(t.station_features + "_by_time")));
}

// Turning a file to WAL takes it alone for a moment, and SQLite answers SQLITE_BUSY at once to
// a second process that opens the same new file meanwhile (`gbfs --warehouse W | ingest
// --warehouse W`) rather than waiting as busy_timeout says: so it waits here, as long.
absl::Status EnterWalMode(sqlite3* db) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMillis);
  while (true) {
    absl::Status status = Exec(db, "PRAGMA journal_mode = WAL");
    if (status.ok() || (sqlite3_errcode(db) & 0xff) != SQLITE_BUSY ||
        std::chrono::steady_clock::now() > deadline) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

absl::Status SqliteWarehouse::Setup() {
  auto transaction = Transaction::Begin(db_.get());
  if (!transaction.ok()) return transaction.status();
  auto had_totals = HasTable(ActivityTable(tables_));
  if (!had_totals.ok()) return had_totals.status();
  auto had_state = HasTable(ActivityStateTable(tables_));
  if (!had_state.ok()) return had_state.status();
  if (auto status = Exec(db_.get(), SchemaSql(tables_) + ActivitySchemaSql(tables_)); !status.ok())
    return status;
  if (auto status = AddMissingColumns(); !status.ok()) return status;
  if (auto status = SetUpActivity(*had_totals, *had_state); !status.ok()) return status;
  return transaction->Commit();
}

// Tables made by an earlier version gain the columns added since.
absl::Status SqliteWarehouse::AddMissingColumns() {
  auto columns = Statement::Prepare(
      db_.get(), "SELECT 1 FROM pragma_table_info(?1) WHERE name = 'publish_time'");
  if (!columns.ok()) return columns.status();
  columns->Bind(1, tables_.dead_letter);
  const int rc = sqlite3_step(columns->get());
  if (rc == SQLITE_ROW) return absl::OkStatus();
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading the columns of " + tables_.dead_letter);
  return Exec(db_.get(), fmt::format("ALTER TABLE {} ADD COLUMN publish_time TIMESTAMP",
                                     QuoteIdentifier(tables_.dead_letter)));
}

}  // namespace sqlite

absl::StatusOr<std::unique_ptr<Warehouse>> OpenSqliteWarehouse(std::string_view url,
                                                               const TableNames& tables,
                                                               OpenMode mode) {
  constexpr std::string_view kScheme = "sqlite:";
  if (url.starts_with(kScheme)) url.remove_prefix(kScheme.size());
  if (auto status = CheckTableNames(tables, sqlite::kMaxTableNameBytes, "SQLite"); !status.ok())
    return status;
  sqlite3* raw = nullptr;
  const std::string file(url);
  const bool in_memory = file == ":memory:";
  if (mode == OpenMode::kMustExist && !in_memory && !std::filesystem::exists(file)) {
    return absl::NotFoundError(fmt::format(
        "no warehouse at '{}' (create it with `bikestream setup --warehouse sqlite:{}`, or "
        "fill it with `bikestream run` or `bikestream ingest`)",
        file, file));
  }
  std::error_code ignored;
  if (!in_memory && std::filesystem::is_directory(file, ignored)) {
    return absl::InvalidArgumentError(fmt::format(
        "'{}' is a directory: give the warehouse a file in it, e.g. --warehouse sqlite:{}", file,
        (std::filesystem::path(file) / "bikestream.db").string()));
  }
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::Connection db(raw);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(fmt::format(
        "cannot open SQLite warehouse '{}': {} (check that the directory exists and is writable)",
        file, db ? sqlite3_errmsg(db.get()) : "out of memory"));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  if (auto status = sqlite::RegisterReadableTime(db.get()); !status.ok()) return status;
  // SQLite opens a file it may not write read-only without a word; a command that writes
  // would then fail on its first write with only "attempt to write a readonly database".
  if (mode == OpenMode::kCreateIfMissing && sqlite3_db_readonly(db.get(), "main") == 1) {
    return absl::PermissionDeniedError(
        fmt::format("SQLite warehouse '{}' is read-only for this user: make the file and its "
                    "directory writable "
                    "(e.g. chmod u+w '{}'; lsattr shows an immutable flag), or point --warehouse "
                    "at another file",
                    file, file));
  }
  const std::string pragmas = fmt::format("PRAGMA busy_timeout = {}; PRAGMA cache_size = -{}; {}",
                                          sqlite::kBusyTimeoutMillis, sqlite::kCacheKibibytes,
                                          in_memory ? "" : "PRAGMA synchronous = FULL;");
  absl::Status status = sqlite::Exec(db.get(), pragmas);
  if (status.ok() && !in_memory) status = sqlite::EnterWalMode(db.get());
  if (!status.ok()) {
    return absl::UnavailableError(
        fmt::format("cannot use SQLite warehouse '{}': {}", file, MessageOf(status)));
  }
  return std::make_unique<sqlite::SqliteWarehouse>(std::move(db), tables);
}

}  // namespace bikestream
