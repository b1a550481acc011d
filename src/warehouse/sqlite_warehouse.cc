#include "warehouse/sqlite_warehouse.h"

#include <fmt/format.h>

#include <filesystem>
#include <utility>

#include "absl/status/status.h"
#include "common/status.h"
#include "features/feature_sql.h"
#include "warehouse/sql_text.h"
#include "warehouse/sqlite_handle.h"

namespace bikestream {
namespace {

using sqlite::Statement;

// Bounded so memory stays flat however large the table grows.
constexpr int kCacheKibibytes = 32 * 1024;
constexpr int kBusyTimeoutMillis = 10'000;

// Timestamps are INTEGER microseconds since the epoch (UTC) in columns declared TIMESTAMP,
// which Query() prints as ISO 8601. Why this schema: docs/adr/0002-sqlite-schema.md.
std::string SchemaSql(const TableNames& t) {
  const std::string raw = QuoteIdentifier(t.raw_events);
  const std::string features = QuoteIdentifier(t.station_features);
  const std::string dead = QuoteIdentifier(t.dead_letter);
  return fmt::format(R"sql(
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
  )sql",
                     fmt::arg("raw", raw), fmt::arg("features", features), fmt::arg("dead", dead),
                     fmt::arg("raw_index", QuoteIdentifier(t.raw_events + "_by_station_time")),
                     fmt::arg("dead_index", QuoteIdentifier(t.dead_letter + "_by_reason")),
                     fmt::arg("features_index", QuoteIdentifier(t.station_features + "_by_station_time")),
                     fmt::arg("features_time_index", QuoteIdentifier(t.station_features + "_by_time")));
}

// A write transaction that rolls back unless Commit() is called, so every early error return
// leaves the database as it was.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(sqlite3* db) {
    if (auto status = sqlite::Exec(db, "BEGIN IMMEDIATE"); !status.ok()) return status;
    return Transaction(db);
  }
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (db_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  absl::Status Commit() {
    absl::Status status = sqlite::Exec(db_, "COMMIT");
    if (status.ok()) db_ = nullptr;  // Otherwise the destructor rolls back.
    return status;
  }

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

QueryResult::Cell CellOf(sqlite3_stmt* stmt, int column) {
  QueryResult::Cell cell;
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_NULL:
      cell.is_null = true;
      cell.text = "NULL";
      break;
    case SQLITE_INTEGER: {
      const char* declared = sqlite3_column_decltype(stmt, column);
      const std::int64_t value = sqlite3_column_int64(stmt, column);
      if (declared && std::string_view(declared) == "TIMESTAMP") {
        cell.text = FormatRfc3339(value);
      } else {
        cell.text = std::to_string(value);
        cell.is_number = true;
      }
      break;
    }
    case SQLITE_FLOAT:
      cell.text = fmt::format("{}", sqlite3_column_double(stmt, column));
      cell.is_number = true;
      break;
    default:
      cell.text.assign(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                       sqlite3_column_bytes(stmt, column));
  }
  return cell;
}

class SqliteWarehouse final : public Warehouse {
 public:
  SqliteWarehouse(sqlite::Connection db, TableNames tables)
      : db_(std::move(db)), tables_(std::move(tables)) {}

  absl::Status Setup() override {
    auto transaction = Transaction::Begin(db_.get());
    if (!transaction.ok()) return transaction.status();
    if (auto status = sqlite::Exec(db_.get(), SchemaSql(tables_)); !status.ok()) return status;
    if (auto status = AddMissingColumns(); !status.ok()) return status;
    return transaction->Commit();
  }

  absl::StatusOr<CommitResult> Commit(const Batch& batch) override {
    if (auto status = PrepareWrites(); !status.ok()) return status;
    auto transaction = Transaction::Begin(db_.get());
    if (!transaction.ok()) return transaction.status();
    CommitResult result;
    if (auto status = InsertEvents(batch.events, &result); !status.ok()) return status;
    for (const DeadLetter& letter : batch.dead_letters) {
      insert_dead_letter_.Bind(1, letter.first_seen);
      insert_dead_letter_.Bind(2, letter.source);
      insert_dead_letter_.Bind(3, letter.message_id);
      insert_dead_letter_.Bind(4, letter.payload);
      insert_dead_letter_.Bind(5, letter.reason);
      insert_dead_letter_.Bind(6, letter.error);
      if (letter.publish_time != 0) {
        insert_dead_letter_.Bind(7, letter.publish_time);
      } else {
        insert_dead_letter_.BindNull(7);
      }
      if (auto changes = insert_dead_letter_.Run(); !changes.ok()) return changes.status();
      ++result.dead_lettered;
    }
    if (auto status = transaction->Commit(); !status.ok()) return status;
    return result;
  }

  absl::StatusOr<QueryResult> Query(std::string_view sql) override {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, &tail) !=
        SQLITE_OK) {
      return WithSetupHint(sqlite::Error(db_.get(), "query failed"));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    if (std::string_view(tail, sql.data() + sql.size() - tail).find_first_not_of(" \t\r\n;") !=
        std::string_view::npos) {
      return absl::InvalidArgumentError("query: give one SQL statement at a time");
    }
    if (!stmt) return QueryResult{};  // Only whitespace or a comment.
    auto result = Rows(stmt.get());
    if (result.ok() && result->columns.empty()) result->rows_changed = sqlite3_changes(db_.get());
    return result;
  }

  absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override {
    auto stmt = Statement::Prepare(
        db_.get(), fmt::format("SELECT id, first_seen, source, message_id, payload, reason, error, "
                               "coalesce(publish_time, 0) "
                               "FROM {} WHERE id > ?1 AND (?2 IS NULL OR reason = ?2) "
                               "ORDER BY id LIMIT ?3",
                               QuoteIdentifier(tables_.dead_letter)));
    if (!stmt.ok()) return WithSetupHint(stmt.status());
    stmt->Bind(1, filter.after_id);
    if (filter.reason) stmt->Bind(2, *filter.reason);
    stmt->Bind(3, static_cast<std::int64_t>(filter.limit));
    std::vector<DeadLetter> letters;
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      auto text = [&](int column) {
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), column)),
                           sqlite3_column_bytes(stmt->get(), column));
      };
      letters.push_back(DeadLetter{sqlite3_column_int64(stmt->get(), 0),
                                   sqlite3_column_int64(stmt->get(), 1), text(2), text(3), text(4),
                                   text(5), text(6), sqlite3_column_int64(stmt->get(), 7)});
    }
    if (rc != SQLITE_DONE) return sqlite::Error(db_.get(), "listing dead letters failed");
    return letters;
  }

  absl::StatusOr<CommitResult> ResolveDeadLetters(
      const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) override {
    if (auto status = PrepareWrites(); !status.ok()) return status;
    auto transaction = Transaction::Begin(db_.get());
    if (!transaction.ok()) return transaction.status();
    CommitResult result;
    if (auto status = InsertEvents(events, &result); !status.ok()) return status;
    for (std::int64_t id : resolved_ids) {
      delete_dead_letter_.Bind(1, id);
      if (auto changes = delete_dead_letter_.Run(); !changes.ok()) return changes.status();
    }
    if (auto status = transaction->Commit(); !status.ok()) return status;
    return result;
  }

  absl::StatusOr<std::vector<FeatureRow>> ComputeFeatures(const std::vector<FeatureSpec>& features,
                                                          TimestampMicros as_of) override {
    auto stmt = Statement::Prepare(db_.get(), SqliteFeatureQuery(features, QuoteIdentifier(tables_.raw_events)));
    if (!stmt.ok()) return WithSetupHint(stmt.status());
    return ReadFeatureRows(*stmt, as_of, "computing features failed");
  }

  absl::StatusOr<std::size_t> RefreshFeatures(const std::vector<FeatureSpec>& features,
                                              TimestampMicros as_of) override {
    const std::vector<std::string> feature_names = FeatureNames(features);
    const std::string table = QuoteIdentifier(tables_.station_features);
    auto transaction = Transaction::Begin(db_.get());
    if (!transaction.ok()) return transaction.status();
    auto remove = PrepareTickDelete(feature_names);
    if (!remove.ok()) return remove.status();
    remove->Bind(1, as_of);
    if (auto done = remove->Run(); !done.ok()) return done.status();
    auto insert = Statement::Prepare(
        db_.get(), fmt::format("INSERT INTO {} (station_id, feature_name, window_len, value, as_of) "
                               "SELECT station_id, feature_name, window_len, value, ?1 FROM ({})",
                               table, SqliteFeatureQuery(features, QuoteIdentifier(tables_.raw_events))));
    if (!insert.ok()) return WithSetupHint(insert.status());
    insert->Bind(1, as_of);
    auto written = insert->Run();
    if (!written.ok()) return written.status();
    if (auto status = transaction->Commit(); !status.ok()) return status;
    return static_cast<std::size_t>(*written);
  }

  absl::StatusOr<std::vector<FeatureRow>> StoredFeatures(TimestampMicros as_of) override {
    auto stmt = Statement::Prepare(
        db_.get(), fmt::format("SELECT station_id, feature_name, window_len, value FROM {} WHERE "
                               "as_of = ?1 ORDER BY station_id, feature_name, window_len",
                               QuoteIdentifier(tables_.station_features)));
    if (!stmt.ok()) return WithSetupHint(stmt.status());
    return ReadFeatureRows(*stmt, as_of, "reading features failed");
  }

  absl::Status WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                 const std::vector<FeatureTick>& ticks) override {
    const std::string table = QuoteIdentifier(tables_.station_features);
    auto transaction = Transaction::Begin(db_.get());
    if (!transaction.ok()) return transaction.status();
    auto remove = PrepareTickDelete(feature_names);
    if (!remove.ok()) return remove.status();
    auto insert = Statement::Prepare(
        db_.get(), fmt::format("INSERT INTO {} (station_id, feature_name, window_len, value, as_of) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)", table));
    if (!insert.ok()) return insert.status();
    for (const FeatureTick& tick : ticks) {
      remove->Bind(1, tick.as_of);
      if (auto done = remove->Run(); !done.ok()) return done.status();
      for (const FeatureRow& row : tick.rows) {
        insert->Bind(1, row.station_id);
        insert->Bind(2, row.feature_name);
        insert->Bind(3, row.window_len);
        sqlite3_bind_double(insert->get(), 4, row.value);
        insert->Bind(5, tick.as_of);
        if (auto done = insert->Run(); !done.ok()) return done.status();
      }
    }
    return transaction->Commit();
  }

  absl::Status ScanEvents(TimestampMicros after, const std::function<void(const Event&)>& visit) override {
    auto stmt = Statement::Prepare(
        db_.get(), fmt::format("SELECT event_id, station_id, ts_iso, kind, delta FROM {} "
                               "WHERE ts_iso > ?1 ORDER BY ts_iso",
                               QuoteIdentifier(tables_.raw_events)));
    if (!stmt.ok()) return WithSetupHint(stmt.status());
    stmt->Bind(1, after);
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      visit(Event{ColumnText(stmt->get(), 0), ColumnText(stmt->get(), 1), sqlite3_column_int64(stmt->get(), 2),
                  ColumnText(stmt->get(), 3) == "pickup" ? Kind::kPickup : Kind::kDropoff,
                  sqlite3_column_int(stmt->get(), 4)});
    }
    if (rc != SQLITE_DONE) return sqlite::Error(db_.get(), "reading events failed");
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<StationKindTotals>> EventTotals(TimestampMicros through) override {
    auto stmt = Statement::Prepare(
        db_.get(), fmt::format("SELECT station_id, kind, count(*), sum(delta), min(delta), max(delta), "
                               "min(ts_iso) FROM {} WHERE ts_iso <= ?1 GROUP BY station_id, kind",
                               QuoteIdentifier(tables_.raw_events)));
    if (!stmt.ok()) return WithSetupHint(stmt.status());
    stmt->Bind(1, through);
    std::vector<StationKindTotals> totals;
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      totals.push_back({ColumnText(stmt->get(), 0),
                        ColumnText(stmt->get(), 1) == "pickup" ? Kind::kPickup : Kind::kDropoff,
                        sqlite3_column_int64(stmt->get(), 2), sqlite3_column_int64(stmt->get(), 3),
                        sqlite3_column_int(stmt->get(), 4), sqlite3_column_int(stmt->get(), 5),
                        sqlite3_column_int64(stmt->get(), 6)});
    }
    if (rc != SQLITE_DONE) return sqlite::Error(db_.get(), "reading event totals failed");
    return totals;
  }

  absl::StatusOr<std::optional<TimestampMicros>> LatestFeatureTime() override {
    return MaxOf("as_of", tables_.station_features);
  }

  absl::StatusOr<std::optional<TimestampMicros>> LatestEventTime() override {
    return MaxOf("ts_iso", tables_.raw_events);
  }

 private:
  absl::StatusOr<std::optional<TimestampMicros>> MaxOf(const char* column, const std::string& table) {
    auto result = Query(fmt::format("SELECT CAST(max({}) AS INTEGER) FROM {}", column, QuoteIdentifier(table)));
    if (!result.ok()) return result.status();
    const auto& cell = result->rows.at(0).at(0);
    if (cell.is_null) return std::optional<TimestampMicros>();
    return std::optional<TimestampMicros>(std::stoll(cell.text));
  }

 public:
  absl::StatusOr<QueryResult> TrainingSet(const TrainingSetRequest& request) override {
    const std::string table = QuoteIdentifier(tables_.station_features);
    const std::string pivots = FeatureColumns(request.features);
    if (request.labels) return LabeledTrainingSet(*request.labels, pivots);
    std::string sql;
    if (request.range) {
      sql = fmt::format("SELECT f.station_id, f.as_of{} FROM {} f WHERE f.as_of BETWEEN ?1 AND ?2 "
                        "GROUP BY f.station_id, f.as_of ORDER BY f.as_of, f.station_id",
                        pivots, table);
    } else {
      sql = fmt::format("SELECT f.station_id, f.as_of{} FROM {} f WHERE f.as_of = ?1 "
                        "GROUP BY f.station_id, f.as_of ORDER BY f.station_id",
                        pivots, table);
    }
    auto stmt = Statement::Prepare(db_.get(), sql);
    if (!stmt.ok()) return WithSetupHint(stmt.status());
    if (request.range) {
      stmt->Bind(1, request.range->first);
      stmt->Bind(2, request.range->second);
    } else {
      stmt->Bind(1, request.as_of.value_or(0));
    }
    return Rows(stmt->get());
  }

 private:
  absl::StatusOr<QueryResult> LabeledTrainingSet(const TrainingSetRequest::Labels& labels,
                                                 const std::string& pivots) {
    // The entity rows go into a temporary table, so the point-in-time join runs in SQL.
    std::string columns, label_select;
    for (std::size_t i = 0; i < labels.columns.size(); ++i) {
      columns += fmt::format(", label{} TEXT", i);
      label_select += fmt::format(", l.label{} AS {}", i, QuoteIdentifier(labels.columns[i]));
    }
    if (auto status = sqlite::Exec(db_.get(), fmt::format("DROP TABLE IF EXISTS temp.bikestream_labels; "
                                                          "CREATE TEMP TABLE bikestream_labels (row INTEGER PRIMARY KEY, "
                                                          "station_id TEXT, ts TIMESTAMP{})", columns));
        !status.ok()) {
      return status;
    }
    std::string placeholders;
    for (std::size_t i = 0; i < labels.columns.size(); ++i) placeholders += fmt::format(", ?{}", i + 4);
    auto insert = Statement::Prepare(
        db_.get(), fmt::format("INSERT INTO temp.bikestream_labels VALUES (?1, ?2, ?3{})", placeholders));
    if (!insert.ok()) return insert.status();
    for (std::size_t r = 0; r < labels.rows.size(); ++r) {
      const auto& row = labels.rows[r];
      insert->Bind(1, std::int64_t(r));
      insert->Bind(2, row.station_id);
      insert->Bind(3, row.ts);
      for (std::size_t i = 0; i < labels.columns.size(); ++i) {
        if (i < row.labels.size()) {
          insert->Bind(int(i + 4), row.labels[i]);
        } else {
          insert->BindNull(int(i + 4));
        }
      }
      if (auto done = insert->Run(); !done.ok()) return done.status();
    }
    const std::string table = QuoteIdentifier(tables_.station_features);
    auto stmt = Statement::Prepare(
        db_.get(),
        fmt::format("SELECT l.station_id, l.ts, f.as_of{0}{1} FROM temp.bikestream_labels l "
                    "LEFT JOIN {2} f ON f.station_id = l.station_id AND f.as_of = "
                    "(SELECT max(g.as_of) FROM {2} g WHERE g.station_id = l.station_id AND "
                    "g.as_of <= l.ts) GROUP BY l.row ORDER BY l.row",
                    label_select, pivots, table));
    if (!stmt.ok()) return WithSetupHint(stmt.status());
    return Rows(stmt->get());
  }

  absl::StatusOr<QueryResult> Rows(sqlite3_stmt* stmt) {
    QueryResult result;
    const int columns = sqlite3_column_count(stmt);
    for (int c = 0; c < columns; ++c) result.columns.emplace_back(sqlite3_column_name(stmt, c));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      auto& row = result.rows.emplace_back();
      for (int c = 0; c < columns; ++c) row.push_back(CellOf(stmt, c));
    }
    if (rc != SQLITE_DONE) return sqlite::Error(db_.get(), "query failed");
    return result;
  }

  // Rows of (station_id, feature_name, window_len, value) for `as_of`, bound as ?1.
  absl::StatusOr<std::vector<FeatureRow>> ReadFeatureRows(Statement& stmt, TimestampMicros as_of,
                                                          std::string_view failure) {
    stmt.Bind(1, as_of);
    std::vector<FeatureRow> rows;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      rows.push_back(FeatureRow{ColumnText(stmt.get(), 0), ColumnText(stmt.get(), 1),
                                ColumnText(stmt.get(), 2), sqlite3_column_double(stmt.get(), 3),
                                as_of});
    }
    if (rc != SQLITE_DONE) return sqlite::Error(db_.get(), failure);
    return rows;
  }

  // Deletes the rows of these features at ?1, the as_of that a refresh replaces.
  absl::StatusOr<Statement> PrepareTickDelete(const std::vector<std::string>& feature_names) {
    auto remove = Statement::Prepare(
        db_.get(), fmt::format("DELETE FROM {} WHERE as_of = ?1 AND feature_name IN ({})",
                               QuoteIdentifier(tables_.station_features),
                               FeatureNameList(feature_names)));
    if (!remove.ok()) return WithSetupHint(remove.status());
    return remove;
  }

  static std::string ColumnText(sqlite3_stmt* stmt, int column) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                       sqlite3_column_bytes(stmt, column));
  }

  // Tables made by an earlier version gain the columns added since.
  absl::Status AddMissingColumns() {
    auto columns = Query(fmt::format("SELECT name FROM pragma_table_info('{}')", tables_.dead_letter));
    if (!columns.ok()) return columns.status();
    for (const auto& row : columns->rows) {
      if (row[0].text == "publish_time") return absl::OkStatus();
    }
    return sqlite::Exec(db_.get(), fmt::format("ALTER TABLE {} ADD COLUMN publish_time TIMESTAMP",
                                               QuoteIdentifier(tables_.dead_letter)));
  }

  // Prepared once, on first write, so read-only commands work before Setup().
  absl::Status PrepareWrites() {
    if (insert_event_.get()) return absl::OkStatus();
    const std::string raw = QuoteIdentifier(tables_.raw_events);
    const std::string dead = QuoteIdentifier(tables_.dead_letter);
    for (auto [statement, sql] : {
             std::pair{&insert_event_,
                       fmt::format("INSERT OR IGNORE INTO {} (event_id, station_id, ts_iso, kind, "
                                   "delta) VALUES (?, ?, ?, ?, ?)", raw)},
             std::pair{&insert_dead_letter_,
                       fmt::format("INSERT OR IGNORE INTO {} (first_seen, source, message_id, "
                                   "payload, reason, error, publish_time) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?)", dead)},
             std::pair{&delete_dead_letter_, fmt::format("DELETE FROM {} WHERE id = ?", dead)},
         }) {
      auto prepared = Statement::Prepare(db_.get(), sql);
      if (!prepared.ok()) return WithSetupHint(prepared.status());
      *statement = std::move(*prepared);
    }
    return absl::OkStatus();
  }

  absl::Status InsertEvents(const std::vector<Event>& events, CommitResult* result) {
    for (const Event& event : events) {
      insert_event_.Bind(1, event.event_id);
      insert_event_.Bind(2, event.station_id);
      insert_event_.Bind(3, event.ts);
      insert_event_.Bind(4, KindName(event.kind));
      insert_event_.Bind(5, std::int64_t{event.delta});
      auto changes = insert_event_.Run();
      if (!changes.ok()) return changes.status();
      ++(*changes == 1 ? result->stored : result->duplicates);
      result->newly_stored.push_back(*changes == 1);
    }
    return absl::OkStatus();
  }

  static absl::Status WithSetupHint(absl::Status status) {
    if (MessageOf(status).find("no such table") == std::string_view::npos) return status;
    return absl::FailedPreconditionError(
        fmt::format("{} (run `bikestream setup` to create the tables)", MessageOf(status)));
  }

  sqlite::Connection db_;
  TableNames tables_;
  Statement insert_event_;
  Statement insert_dead_letter_;
  Statement delete_dead_letter_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Warehouse>> OpenSqliteWarehouse(std::string_view path,
                                                               const TableNames& tables,
                                                               OpenMode mode) {
  sqlite3* raw = nullptr;
  const std::string file(path);
  const bool in_memory = file == ":memory:";
  if (mode == OpenMode::kMustExist && !in_memory && !std::filesystem::exists(file)) {
    return absl::NotFoundError(fmt::format(
        "no warehouse at '{}' (create it with `bikestream setup --warehouse sqlite:{}`, or "
        "fill it with `bikestream run` or `bikestream ingest`)", file, file));
  }
  const int rc = sqlite3_open_v2(file.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  sqlite::Connection db(raw);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(fmt::format(
        "cannot open SQLite warehouse '{}': {} (check that the directory exists and is writable)",
        file, db ? sqlite3_errmsg(db.get()) : "out of memory"));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  const std::string pragmas = fmt::format(
      "PRAGMA busy_timeout = {}; PRAGMA cache_size = -{}; {}", kBusyTimeoutMillis,
      kCacheKibibytes, in_memory ? "" : "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
  if (auto status = sqlite::Exec(db.get(), pragmas); !status.ok()) {
    return absl::UnavailableError(
        fmt::format("cannot use SQLite warehouse '{}': {}", file, MessageOf(status)));
  }
  return std::make_unique<SqliteWarehouse>(std::move(db), tables);
}

}  // namespace bikestream
