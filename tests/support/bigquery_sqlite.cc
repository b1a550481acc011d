#include "support/bigquery_sqlite.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <vector>

#include "absl/strings/numbers.h"
#include "event/timestamp.h"
#include "warehouse/sql/sql_text.h"

namespace bikestream::testing_support {
namespace {

using json = nlohmann::json;
using Failure = BigQueryStandIn::Failure;

std::string SqliteType(const std::string& type) {
  if (type == "STRING") return "TEXT";
  if (type == "TIMESTAMP") return "TIMESTAMP";
  if (type == "FLOAT" || type == "FLOAT64") return "REAL";
  return "INTEGER";  // INTEGER, INT64, BOOL
}

std::string BigQueryType(const char* declared, int runtime) {
  const std::string type = declared ? declared : "";
  if (type == "TEXT") return "STRING";
  if (type == "TIMESTAMP") return "TIMESTAMP";
  if (type == "REAL") return "FLOAT";
  if (type == "INTEGER" || type == "INT") return "INTEGER";
  if (runtime == SQLITE_INTEGER) return "INTEGER";
  if (runtime == SQLITE_FLOAT) return "FLOAT";
  return "STRING";
}

// A parameter's value as SQLite holds it; nullopt for NULL.
std::optional<std::string> Stored(const json& value, const std::string& type) {
  if (!value.contains("value")) return std::nullopt;
  std::string text = value["value"];
  if (type != "TIMESTAMP") return text;
  // "YYYY-MM-DD HH:MM:SS[.ffffff]+00", as the warehouse sends them.
  if (text.size() > 10) text[10] = 'T';
  if (text.ends_with("+00")) text.replace(text.size() - 3, 3, "Z");
  auto micros = ParseRfc3339(text);
  return micros.ok() ? std::optional<std::string>(std::to_string(*micros)) : std::nullopt;
}

std::string Literal(const std::optional<std::string>& value, const std::string& type) {
  if (!value) return "NULL";
  if (type == "STRING") return "'" + std::regex_replace(*value, std::regex("'"), "''") + "'";
  return *value;
}

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return absl::OkStatus();
  absl::Status status = absl::InternalError(error ? error : "sqlite3_exec failed");
  sqlite3_free(error);
  return status;
}

// Makes a temporary table of an ARRAY parameter's elements; its scalars go to `literals`.
absl::Status LoadParameter(sqlite3* db, const json& parameter,
                           std::map<std::string, std::string>* literals) {
  const std::string name = parameter.value("name", "");
  const json& type = parameter["parameterType"];
  const json& value = parameter["parameterValue"];
  if (type["type"] != "ARRAY") {
    (*literals)[name] = Literal(Stored(value, type["type"]), type["type"]);
    return absl::OkStatus();
  }
  std::vector<std::pair<std::string, std::string>> columns;  // (name, BigQuery type)
  const json& element = type["arrayType"];
  if (element["type"] == "STRUCT") {
    for (const json& field : element["structTypes"])
      columns.emplace_back(field["name"], field["type"]["type"]);
  } else {
    columns.emplace_back("value", element["type"]);
  }
  std::string definition = "pos INTEGER";
  std::string placeholders = "?";
  for (const auto& [column, column_type] : columns) {
    definition += fmt::format(", {} {}", column, SqliteType(column_type));
    placeholders += ", ?";
  }
  if (auto status = Exec(db, fmt::format("CREATE TEMP TABLE _param_{} ({})", name, definition));
      !status.ok()) {
    return status;
  }
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db,
                     fmt::format("INSERT INTO _param_{} VALUES ({})", name, placeholders).c_str(),
                     -1, &insert, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> owned(insert, &sqlite3_finalize);
  const json& items = value.contains("arrayValues") ? value["arrayValues"] : json::array();
  for (std::size_t pos = 0; pos < items.size(); ++pos) {
    sqlite3_reset(insert);
    sqlite3_bind_int64(insert, 1, std::int64_t(pos));
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const json& member =
          element["type"] == "STRUCT" ? items[pos]["structValues"][columns[c].first] : items[pos];
      const auto stored = Stored(member, columns[c].second);
      if (!stored) {
        sqlite3_bind_null(insert, int(c) + 2);
      } else if (columns[c].second == "STRING") {
        sqlite3_bind_text(insert, int(c) + 2, stored->c_str(), int(stored->size()),
                          SQLITE_TRANSIENT);
      } else if (columns[c].second == "FLOAT64" || columns[c].second == "FLOAT") {
        sqlite3_bind_double(insert, int(c) + 2, std::stod(*stored));
      } else {
        sqlite3_bind_int64(insert, int(c) + 2, std::stoll(*stored));
      }
    }
    if (sqlite3_step(insert) != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(db));
  }
  return absl::OkStatus();
}

// `missing` gets the first @name that no parameter gives (BigQuery refuses such a query;
// SQLite would read it as NULL).
std::string Translate(std::string statement, const std::map<std::string, std::string>& literals,
                      std::string* missing) {
  static const std::regex kInUnnest(R"(\bIN\s+UNNEST\(@(\w+)\))", std::regex::icase);
  static const std::regex kUnnest(
      R"(\bUNNEST\(@(\w+)\)(\s+AS\s+(\w+))?(\s+WITH\s+OFFSET\s+AS\s+pos)?)", std::regex::icase);
  static const std::regex kParameter(R"(@(\w+))");
  static const std::regex kTimestampSub(R"(\bTIMESTAMP_SUB\((@\w+), INTERVAL (\d+) MICROSECOND\))");
  static const std::regex kGreatest(R"(\bGREATEST\()");
  statement = std::regex_replace(statement, kTimestampSub, "($1 - $2)");
  statement = std::regex_replace(statement, kGreatest, "max(");
  statement = std::regex_replace(statement, kInUnnest, "IN (SELECT value FROM _param_$1)");
  statement = std::regex_replace(statement, kUnnest, "_param_$1$2");
  std::string translated;
  auto begin = std::sregex_iterator(statement.begin(), statement.end(), kParameter);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    translated += statement.substr(last, it->position() - last);
    auto literal = literals.find((*it)[1]);
    if (literal == literals.end() && missing->empty()) *missing = it->str();
    translated += literal != literals.end() ? literal->second : it->str();
    last = it->position() + it->length();
  }
  return translated + statement.substr(last);
}

Failure FailureOf(sqlite3* db, const std::string& project, const std::string& dataset) {
  const std::string message = sqlite3_errmsg(db);
  static const std::regex kNoTable(R"(no such table: (\S+))");
  std::smatch table;
  if (std::regex_search(message, table, kNoTable)) {
    return {"notFound", fmt::format("Not found: Table {}:{}.{} was not found in location US",
                                    project, dataset, table[1].str())};
  }
  if (message.find("syntax error") != std::string::npos)
    return {"invalidQuery", "Syntax error: " + message};
  return {"invalidQuery", message};
}

}  // namespace

namespace {

// GoogleSQL's MOD (the remainder, with the sign of the dividend, as SQLite's %) and
// UNIX_MICROS (a TIMESTAMP's microseconds: the stored integer itself).
void Mod(sqlite3_context* context, int, sqlite3_value** args) {
  const sqlite3_int64 divisor = sqlite3_value_int64(args[1]);
  if (divisor == 0) {
    sqlite3_result_error(context, "division by zero: MOD", -1);
    return;
  }
  sqlite3_result_int64(context, sqlite3_value_int64(args[0]) % divisor);
}

void UnixMicros(sqlite3_context* context, int, sqlite3_value** args) {
  sqlite3_result_int64(context, sqlite3_value_int64(args[0]));
}

}  // namespace

void BigQuerySqliteEngine::DatasetCreated(const std::string& dataset) {
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_create_function(db, "MOD", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, Mod, nullptr,
                          nullptr);
  sqlite3_create_function(db, "UNIX_MICROS", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                          UnixMicros, nullptr, nullptr);
  datasets_[dataset].reset(db);
}

void BigQuerySqliteEngine::TableCreated(const std::string& dataset, const json& table) {
  std::string columns;
  for (const json& field : table["schema"]["fields"]) {
    columns += fmt::format("{}{} {}{}", columns.empty() ? "" : ", ",
                           field["name"].get<std::string>(), SqliteType(field["type"]),
                           field.value("mode", "") == "REQUIRED" ? " NOT NULL" : "");
  }
  billing_[dataset].TableCreated(table);
  const std::string name = table["tableReference"]["tableId"];
  if (auto status =
          Exec(datasets_.at(dataset).get(), fmt::format("CREATE TABLE `{}` ({})", name, columns));
      !status.ok()) {
    ADD_FAILURE() << "the stand-in could not create " << name << ": " << status;
  }
}

BigQueryStandIn::Outcome BigQuerySqliteEngine::Run(const json& query) {
  const std::string dataset =
      query.contains("defaultDataset") ? query["defaultDataset"].value("datasetId", "") : "";
  auto found = datasets_.find(dataset);
  if (found == datasets_.end()) {
    return Failure{"notFound", fmt::format("Not found: Dataset {}:{}", project_, dataset)};
  }
  sqlite3* db = found->second.get();
  BigQueryStandIn::Outcome outcome = RunScript(db, dataset, query);
  if (!sqlite3_get_autocommit(db))
    Exec(db, "ROLLBACK").IgnoreError();  // A script that failed midway.
  // A script's temporary tables end with it.
  std::vector<std::string> temporary;
  sqlite3_stmt* list = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_temp_master WHERE type = 'table'", -1, &list,
                     nullptr);
  while (sqlite3_step(list) == SQLITE_ROW)
    temporary.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(list, 0)));
  sqlite3_finalize(list);
  for (const std::string& name : temporary)
    Exec(db, fmt::format("DROP TABLE temp.`{}`", name)).IgnoreError();
  return outcome;
}

BigQueryStandIn::Outcome BigQuerySqliteEngine::Load(const std::string& dataset, const json& table,
                                                    const std::string& ndjson) {
  sqlite3* db = datasets_.at(dataset).get();
  const std::string name = table["tableReference"]["tableId"];
  std::vector<std::pair<std::string, std::string>> fields;  // (name, BigQuery type)
  std::string columns, placeholders;
  for (const json& field : table["schema"]["fields"]) {
    fields.emplace_back(field["name"], field["type"]);
    columns += (columns.empty() ? "`" : ", `") + field["name"].get<std::string>() + "`";
    placeholders += placeholders.empty() ? "?" : ", ?";
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(
          db, fmt::format("INSERT INTO `{}` ({}) VALUES ({})", name, columns, placeholders).c_str(),
          -1, &raw, nullptr) != SQLITE_OK) {
    return FailureOf(db, project_, dataset);
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> insert(raw, &sqlite3_finalize);
  Exec(db, "SAVEPOINT load").IgnoreError();
  const auto fail = [&](const std::string& why) {
    Exec(db, "ROLLBACK TO load").IgnoreError();
    Exec(db, "RELEASE load").IgnoreError();
    return Failure{"invalid", "Error while reading data, error message: " + why};
  };
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < ndjson.size();) {
    std::size_t end = ndjson.find('\n', start);
    if (end == std::string::npos) end = ndjson.size();
    const std::string line = ndjson.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.empty()) continue;
    const json row = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object()) return fail(fmt::format("line {} is not a JSON object", line_number));
    for (const auto& item : row.items()) {
      const std::string& key = item.key();
      if (std::none_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == key; }))
        return fail(fmt::format("no such field: {} (line {})", key, line_number));
    }
    sqlite3_reset(insert.get());
    for (std::size_t c = 0; c < fields.size(); ++c) {
      const auto& [field, type] = fields[c];
      const int at = int(c) + 1;
      if (!row.contains(field) || row[field].is_null()) {
        sqlite3_bind_null(insert.get(), at);
      } else if (type == "STRING") {
        if (!row[field].is_string()) return fail(field + " is not a string");
        const std::string text = row[field];
        sqlite3_bind_text(insert.get(), at, text.c_str(), int(text.size()), SQLITE_TRANSIENT);
      } else if (type == "TIMESTAMP") {
        if (!row[field].is_string()) return fail(field + " is not a timestamp's text");
        const auto micros = Stored({{"value", row[field].get<std::string>()}}, "TIMESTAMP");
        if (!micros) return fail(field + ": not a timestamp");
        sqlite3_bind_int64(insert.get(), at, std::stoll(*micros));
      } else if (type == "FLOAT" || type == "FLOAT64") {
        if (!row[field].is_number()) return fail(field + " is not a number");
        sqlite3_bind_double(insert.get(), at, row[field].get<double>());
      } else {
        // INT64 comes as a number or as its decimal text.
        const json& value = row[field];
        std::int64_t number = 0;
        if (value.is_number_integer()) {
          number = value.get<std::int64_t>();
        } else if (!value.is_string() || !absl::SimpleAtoi(value.get<std::string>(), &number)) {
          return fail(field + " is not an integer");
        }
        sqlite3_bind_int64(insert.get(), at, number);
      }
    }
    if (sqlite3_step(insert.get()) != SQLITE_DONE) return fail(sqlite3_errmsg(db));
  }
  Exec(db, "RELEASE load").IgnoreError();
  return BigQueryStandIn::Result{};
}

BigQueryStandIn::Outcome BigQuerySqliteEngine::ReadTable(const std::string& dataset,
                                                         const std::string& table,
                                                         const std::vector<std::string>& fields) {
  std::string columns;
  for (const std::string& field : fields) columns += (columns.empty() ? "`" : ", `") + field + "`";
  json query = {{"query", fmt::format("SELECT {} FROM `{}`", columns, table)},
                {"defaultDataset", {{"datasetId", dataset}}}};
  BigQueryStandIn::Outcome read = Run(query);
  if (auto* result = std::get_if<BigQueryStandIn::Result>(&read)) {
    result->bytes_processed = result->bytes_billed = 0;  // tabledata.list is free.
  }
  return read;
}

void BigQuerySqliteEngine::TableDeleted(const std::string& dataset, const std::string& table) {
  Exec(datasets_.at(dataset).get(), fmt::format("DROP TABLE IF EXISTS `{}`", table)).IgnoreError();
  billing_[dataset].TableDeleted(table);
}

BigQueryStandIn::Outcome BigQuerySqliteEngine::RunScript(sqlite3* db, const std::string& dataset,
                                                         const json& query) {
  std::map<std::string, std::string> literals;
  if (query.contains("queryParameters")) {
    for (const json& parameter : query["queryParameters"]) {
      if (auto status = LoadParameter(db, parameter, &literals); !status.ok()) {
        return Failure{"invalidQuery", std::string(status.message())};
      }
    }
  }
  BigQueryStandIn::Result result;
  StatementBytes script_bytes;
  const std::string script = query.value("query", "");
  for (std::string_view statement : SplitStatements(script)) {
    std::string missing;
    const std::string sql = Translate(std::string(statement), literals, &missing);
    if (!missing.empty())
      return Failure{"invalidQuery", fmt::format("Query parameter '{}' not found", missing)};
    const StatementBytes bytes = billing_[dataset].Bill(db, sql);  // As the tables are before.
    script_bytes.processed += bytes.processed;
    script_bytes.billed += bytes.billed;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
      return FailureOf(db, project_, dataset);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    result = {};  // A script's result is its last statement's.
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      const int count = sqlite3_column_count(raw);
      if (result.fields.empty()) {
        for (int c = 0; c < count; ++c) {
          result.fields.emplace_back(
              sqlite3_column_name(raw, c),
              BigQueryType(sqlite3_column_decltype(raw, c), sqlite3_column_type(raw, c)));
        }
      }
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < count; ++c) {
        if (sqlite3_column_type(raw, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else if (sqlite3_column_type(raw, c) == SQLITE_FLOAT) {
          // Every digit, as BigQuery sends a FLOAT64 (SQLite's text keeps 15).
          row.emplace_back(fmt::format("{}", sqlite3_column_double(raw, c)));
        } else {
          row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(raw, c)),
                                       sqlite3_column_bytes(raw, c)));
        }
      }
      result.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return FailureOf(db, project_, dataset);
    if (result.fields.empty()) {  // No rows: the columns are still the result's.
      for (int c = 0; c < sqlite3_column_count(raw); ++c) {
        result.fields.emplace_back(sqlite3_column_name(raw, c),
                                   BigQueryType(sqlite3_column_decltype(raw, c), SQLITE_NULL));
      }
    }
  }
  result.bytes_processed = script_bytes.processed;
  result.bytes_billed = script_bytes.billed;
  return result;
}

}  // namespace bikestream::testing_support
