#include "support/bigquery_billing.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <regex>

namespace bikestream::testing_support {
namespace {

constexpr std::int64_t kDayMicros = 86'400'000'000;

std::int64_t FloorToDay(std::int64_t micros) {
  return micros - ((micros % kDayMicros) + kDayMicros) % kDayMicros;
}

bool Mentions(const std::string& text, const std::string& word) {
  return std::regex_search(text, std::regex("\\b" + word + "\\b"));
}

// A DML statement's target and the text left once its target clause is taken out (an INSERT's
// target is written to, not scanned); empty target for a query.
struct Shape {
  std::string target;
  bool rewrites_target = false;  // UPDATE, DELETE, a MERGE with an UPDATE or DELETE clause.
  std::string scanned_text;
};

std::optional<Shape> ShapeOf(const std::string& statement) {
  static const std::regex kInsert(R"(^\s*INSERT\s+(?:INTO\s+)?`?(\w+)`?\s*(\([^)]*\))?)",
                                  std::regex::icase);
  static const std::regex kUpdate(R"(^\s*UPDATE\s+`?(\w+)`?)", std::regex::icase);
  static const std::regex kDelete(R"(^\s*DELETE\s+(?:FROM\s+)?`?(\w+)`?)", std::regex::icase);
  static const std::regex kMerge(R"(^\s*MERGE\s+(?:INTO\s+)?`?(\w+)`?)", std::regex::icase);
  static const std::regex kMergeRewrites(R"(\bWHEN\s+MATCHED\b)", std::regex::icase);
  static const std::regex kQuery(R"(^\s*(SELECT|WITH|CREATE\s+TEMP(ORARY)?\s+TABLE)\b)",
                                 std::regex::icase);
  std::smatch match;
  if (std::regex_search(statement, match, kInsert)) {
    return Shape{match[1], false, match.suffix()};
  }
  if (std::regex_search(statement, match, kUpdate) ||
      std::regex_search(statement, match, kDelete)) {
    return Shape{match[1], true, statement};
  }
  if (std::regex_search(statement, match, kMerge)) {
    return Shape{match[1], std::regex_search(statement, kMergeRewrites), statement};
  }
  if (std::regex_search(statement, kQuery)) return Shape{"", false, statement};
  return std::nullopt;  // BEGIN, COMMIT, DDL: nothing read.
}

// The rows of `column`'s days that `text`'s constant filters on it leave, as SQL; "" for all.
std::string ScannedDays(const std::string& text, const std::string& column) {
  std::optional<std::int64_t> low, high;
  std::smatch match;
  const std::regex between("\\b" + column + R"(\s+BETWEEN\s+(-?\d+)\s+AND\s+(-?\d+))",
                           std::regex::icase);
  if (std::regex_search(text, match, between)) {
    low = std::stoll(match[1]);
    high = std::stoll(match[2]);
  }
  const std::regex above("\\b" + column + R"(\s*>=?\s*(-?\d+))");
  if (std::regex_search(text, match, above)) low = std::stoll(match[1]);
  const std::regex below("\\b" + column + R"(\s*<=?\s*(-?\d+))");
  if (std::regex_search(text, match, below)) high = std::stoll(match[1]);
  std::string where;
  if (low) where = fmt::format("`{}` >= {}", column, FloorToDay(*low));
  if (high) {
    where += fmt::format("{}`{}` < {}", where.empty() ? "" : " AND ", column,
                         FloorToDay(*high) + kDayMicros);
  }
  return where;
}

std::int64_t BilledForTable(std::int64_t bytes) {
  const std::int64_t rounded = (bytes + kMegabyte - 1) / kMegabyte * kMegabyte;
  return std::max(rounded, kMinimumBilledPerTable);
}

}  // namespace

void BigQueryBilling::TableCreated(const nlohmann::json& table) {
  Table known;
  for (const auto& field : table["schema"]["fields"]) {
    known.columns.push_back({field["name"], field["type"]});
  }
  if (table.contains("timePartitioning")) {
    known.partitioned_by = table["timePartitioning"].value("field", "");
  }
  tables_[table["tableReference"]["tableId"]] = std::move(known);
}

BigQueryBilling::Table BigQueryBilling::Describe(sqlite3* db, const std::string& name) const {
  if (auto known = tables_.find(name); known != tables_.end()) return known->second;
  Table temporary;
  sqlite3_stmt* info = nullptr;
  sqlite3_prepare_v2(db, fmt::format("PRAGMA temp.table_info(`{}`)", name).c_str(), -1, &info,
                     nullptr);
  while (sqlite3_step(info) == SQLITE_ROW) {
    temporary.columns.push_back({reinterpret_cast<const char*>(sqlite3_column_text(info, 1)), ""});
  }
  sqlite3_finalize(info);
  return temporary;
}

std::int64_t BigQueryBilling::ColumnBytes(sqlite3* db, const std::string& table,
                                          const std::vector<Column>& columns,
                                          const std::string& where) const {
  if (columns.empty()) return 0;
  std::string sizes;
  for (const Column& column : columns) {
    // As stored here: TIMESTAMP, INT64 and BOOL are integers (a BOOL counts 8, not 1).
    sizes += fmt::format(
        "{}CASE typeof(`{}`) WHEN 'null' THEN 0 WHEN 'text' THEN 2 + length(CAST(`{}` AS BLOB)) "
        "ELSE 8 END",
        sizes.empty() ? "" : " + ", column.name, column.name);
  }
  const std::string sql = fmt::format("SELECT COALESCE(SUM({}), 0) FROM `{}`{}", sizes, table,
                                      where.empty() ? "" : " WHERE " + where);
  sqlite3_stmt* sum = nullptr;
  std::int64_t bytes = 0;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &sum, nullptr) == SQLITE_OK &&
      sqlite3_step(sum) == SQLITE_ROW) {
    bytes = sqlite3_column_int64(sum, 0);
  }
  sqlite3_finalize(sum);
  return bytes;
}

StatementBytes BigQueryBilling::Bill(sqlite3* db, const std::string& statement) const {
  const std::optional<Shape> shape = ShapeOf(statement);
  if (!shape) return {};
  // The dataset's tables and the script's temporary ones (but the parameters' own).
  std::vector<std::string> names;
  for (const auto& [name, table] : tables_) names.push_back(name);
  sqlite3_stmt* list = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_temp_master WHERE type = 'table' AND name NOT LIKE "
                     "'\\_param\\_%' ESCAPE '\\'",
                     -1, &list, nullptr);
  while (sqlite3_step(list) == SQLITE_ROW) {
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(list, 0)));
  }
  sqlite3_finalize(list);

  StatementBytes bytes;
  for (const std::string& name : names) {
    const bool rewritten = shape->rewrites_target && name == shape->target;
    if (!rewritten && !Mentions(shape->scanned_text, name)) continue;
    const Table table = Describe(db, name);
    const std::string where =
        table.partitioned_by.empty() ? "" : ScannedDays(shape->scanned_text, table.partitioned_by);
    std::vector<Column> referenced;
    const std::regex star(R"(SELECT\s+\*\s+FROM\s+`?)" + name + R"(\b)", std::regex::icase);
    const bool all = std::regex_search(shape->scanned_text, star);
    for (const Column& column : table.columns) {
      if (all || Mentions(shape->scanned_text, column.name)) referenced.push_back(column);
    }
    std::int64_t read = ColumnBytes(db, name, referenced, where);
    if (rewritten) read += ColumnBytes(db, name, table.columns, where);
    bytes.processed += read;
    bytes.billed += BilledForTable(read);
  }
  return bytes;
}

}  // namespace bikestream::testing_support
