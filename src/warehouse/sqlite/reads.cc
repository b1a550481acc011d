// Reading the SQLite warehouse: SQL for a person, dead letters, events and their totals.
#include <fmt/format.h>

#include "absl/status/status.h"
#include "common/status.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/totals_query.h"
#include "warehouse/sqlite/readable_time.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {
namespace {

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
      cell.text = ColumnText(stmt, column);
  }
  return cell;
}

Kind KindOf(std::string_view name) { return name == "pickup" ? Kind::kPickup : Kind::kDropoff; }

}  // namespace

std::string ColumnText(sqlite3_stmt* stmt, int column) {
  return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                     sqlite3_column_bytes(stmt, column));
}

absl::Status WithSetupHint(absl::Status status) {
  if (MessageOf(status).find("no such table") == std::string_view::npos) return status;
  return absl::FailedPreconditionError(
      fmt::format("{} (run `bikestream setup` to create the tables)", MessageOf(status)));
}

absl::StatusOr<QueryResult> SqliteWarehouse::Query(std::string_view sql) {
  auto stmt = PrepareOne(sql);
  if (!stmt.ok()) return stmt.status();
  if (!*stmt) return QueryResult{};  // Only whitespace or a comment.
  if (!sqlite3_stmt_readonly(stmt->get())) {
    // A write sees the tables as stored (a view cannot be written): timestamps in microseconds.
    auto result = Rows(stmt->get());
    if (result.ok() && result->columns.empty()) result->rows_changed = sqlite3_changes(db_.get());
    return result;
  }
  stmt->reset();
  auto views = ReadableTimeViews::Create(db_.get());
  if (!views.ok()) return views.status();
  auto readable = PrepareOne(sql);
  if (!readable.ok()) return readable.status();
  return Rows(readable->get());
}

absl::StatusOr<SqliteWarehouse::StatementPtr> SqliteWarehouse::PrepareOne(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, &tail) !=
      SQLITE_OK) {
    return WithSetupHint(Error(db_.get(), "query failed"));
  }
  StatementPtr stmt(raw, &sqlite3_finalize);
  if (std::string_view(tail, sql.data() + sql.size() - tail).find_first_not_of(" \t\r\n;") !=
      std::string_view::npos) {
    return absl::InvalidArgumentError("query: give one SQL statement at a time");
  }
  return stmt;
}

absl::StatusOr<std::vector<DeadLetter>> SqliteWarehouse::ListDeadLetters(
    const DeadLetterFilter& filter) {
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
  sqlite3_stmt* s = stmt->get();
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    letters.push_back(DeadLetter{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                                 ColumnText(s, 2), ColumnText(s, 3), ColumnText(s, 4),
                                 ColumnText(s, 5), ColumnText(s, 6), sqlite3_column_int64(s, 7)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "listing dead letters failed");
  return letters;
}

absl::Status SqliteWarehouse::ScanEvents(TimestampMicros after,
                                         const std::function<void(const Event&)>& visit) {
  auto stmt = Statement::Prepare(
      db_.get(), fmt::format("SELECT event_id, station_id, ts_iso, kind, delta FROM {} "
                             "WHERE ts_iso > ?1 ORDER BY ts_iso",
                             QuoteIdentifier(tables_.raw_events)));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, after);
  int rc;
  sqlite3_stmt* s = stmt->get();
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    visit(Event{ColumnText(s, 0), ColumnText(s, 1), sqlite3_column_int64(s, 2),
                KindOf(ColumnText(s, 3)), sqlite3_column_int(s, 4)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading events failed");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StationTotals>> SqliteWarehouse::EventTotals(TimestampMicros through) {
  auto stmt = Statement::Prepare(db_.get(),
                                 EventTotalsQuery(QuoteIdentifier(tables_.raw_events), Dialect()));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  stmt->Bind(1, through);
  std::vector<StationTotals> totals;
  int rc;
  sqlite3_stmt* s = stmt->get();
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    totals.push_back({ColumnText(s, 0), KindOf(ColumnText(s, 1)),
                      KindTotals{sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
                                 sqlite3_column_int(s, 4), sqlite3_column_int(s, 5)},
                      sqlite3_column_int64(s, 6)});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "reading event totals failed");
  return totals;
}

absl::StatusOr<std::optional<TimestampMicros>> SqliteWarehouse::LatestEventTime() {
  return MaxOf("ts_iso", tables_.raw_events);
}

absl::StatusOr<std::optional<TimestampMicros>> SqliteWarehouse::MaxOf(const char* column,
                                                                      const std::string& table) {
  auto stmt = Statement::Prepare(db_.get(), fmt::format("SELECT CAST(max({}) AS INTEGER) FROM {}",
                                                        column, QuoteIdentifier(table)));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  if (sqlite3_step(stmt->get()) != SQLITE_ROW)
    return Error(db_.get(), fmt::format("reading the latest {}", column));
  if (sqlite3_column_type(stmt->get(), 0) == SQLITE_NULL) return std::optional<TimestampMicros>();
  return std::optional<TimestampMicros>(sqlite3_column_int64(stmt->get(), 0));
}

absl::StatusOr<QueryResult> SqliteWarehouse::Rows(sqlite3_stmt* stmt) {
  QueryResult result;
  const int columns = sqlite3_column_count(stmt);
  for (int c = 0; c < columns; ++c) result.columns.emplace_back(sqlite3_column_name(stmt, c));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    auto& row = result.rows.emplace_back();
    for (int c = 0; c < columns; ++c) row.push_back(CellOf(stmt, c));
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "query failed");
  return result;
}

}  // namespace bikestream::sqlite
