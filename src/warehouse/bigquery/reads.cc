// Reading: a person's queries, dead letters, and raw_events back for the streaming job.
#include <fmt/format.h>

#include <set>

#include "absl/strings/numbers.h"
#include "event/timestamp.h"
#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/totals_query.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

bool IsNumeric(const std::string& type) {
  static const std::set<std::string> kNumeric = {"INTEGER", "INT64",   "FLOAT",
                                                 "FLOAT64", "NUMERIC", "BIGNUMERIC"};
  return kNumeric.contains(type);
}

bool IsFloat(const std::string& type) { return type == "FLOAT" || type == "FLOAT64"; }

Kind KindOf(const std::optional<std::string>& name) {
  return name == "pickup" ? Kind::kPickup : Kind::kDropoff;
}

}  // namespace

QueryResult ForPeople(const Rows& rows) {
  QueryResult result;
  for (const Field& field : rows.fields) result.columns.push_back(field.name);
  for (const auto& row : rows.rows) {
    std::vector<QueryResult::Cell> cells;
    for (std::size_t i = 0; i < row.size() && i < rows.fields.size(); ++i) {
      const std::string& type = rows.fields[i].type;
      if (!row[i]) {
        cells.push_back({.text = "NULL", .is_null = true});
      } else if (std::int64_t micros = 0;
                 type == "TIMESTAMP" && absl::SimpleAtoi(*row[i], &micros)) {
        cells.push_back(
            {.text = FormatRfc3339(micros)});  // Not an ARRAY of them, which is JSON text.
      } else if (double value = 0; IsFloat(type) && absl::SimpleAtod(*row[i], &value)) {
        // As the other engines print a double: the shortest text that reads back as it.
        cells.push_back({.text = fmt::format("{}", value), .is_number = true});
      } else {
        cells.push_back({.text = *row[i], .is_number = IsNumeric(type)});
      }
    }
    result.rows.push_back(std::move(cells));
  }
  result.rows_changed = rows.dml_affected_rows;
  return result;
}

double DoubleOf(const std::optional<std::string>& cell) {
  double value = 0;
  return cell && absl::SimpleAtod(*cell, &value) ? value : 0;
}

std::int64_t IntegerOf(const std::optional<std::string>& cell) {
  std::int64_t value = 0;
  return cell && absl::SimpleAtoi(*cell, &value) ? value : 0;
}

void BigQueryWarehouse::ReportBytes(std::string_view statement, const Rows& rows) const {
  if (cost_observer_) cost_observer_({statement, rows.bytes_processed, rows.bytes_billed});
}

absl::StatusOr<Rows> BigQueryWarehouse::Read(std::string_view what, const std::string& sql,
                                             const json& parameters,
                                             const Client::PageVisitor& on_page) {
  auto rows = client_.Query(sql, parameters, on_page);
  if (rows.ok()) ReportBytes(what, *rows);
  return rows;
}

absl::StatusOr<Rows> BigQueryWarehouse::RunJob(std::string_view what, std::string_view job_prefix,
                                               const std::string& script, const json& parameters) {
  auto rows = client_.RunQueryJob(UniqueJobId(job_prefix), script, parameters);
  if (rows.ok()) ReportBytes(what, *rows);
  return rows;
}

absl::StatusOr<QueryResult> BigQueryWarehouse::Query(std::string_view sql) {
  const auto statements = SplitStatements(sql);
  if (statements.size() > 1)
    return absl::InvalidArgumentError("query: give one SQL statement at a time");
  if (statements.empty()) return QueryResult{};
  auto rows = Read("query", std::string(statements[0]), json::array());
  if (!rows.ok()) return rows.status();
  return ForPeople(*rows);
}

absl::StatusOr<std::vector<DeadLetter>> BigQueryWarehouse::ListDeadLetters(
    const DeadLetterFilter& filter) {
  json parameters =
      json::array({ScalarParameter("after_id", "INT64", std::to_string(filter.after_id)),
                   ScalarParameter("max_rows", "INT64", std::to_string(filter.limit))});
  std::string where = "id > @after_id";
  if (filter.reason) {
    parameters.push_back(ScalarParameter("reason", "STRING", *filter.reason));
    where += " AND reason = @reason";
  }
  auto rows = Read(
      "dead-letter list",
      fmt::format("SELECT id, first_seen, source, message_id, payload, reason, error, publish_time "
                  "FROM {} WHERE {} ORDER BY id LIMIT @max_rows",
                  Quoted(tables_.dead_letter), where),
      parameters);
  if (!rows.ok()) return rows.status();
  std::vector<DeadLetter> letters;
  for (const auto& r : rows->rows) {
    letters.push_back(DeadLetter{IntegerOf(r[0]), IntegerOf(r[1]), r[2].value_or(""),
                                 r[3].value_or(""), r[4].value_or(""), r[5].value_or(""),
                                 r[6].value_or(""), IntegerOf(r[7])});
  }
  return letters;
}

// Page by page, so that a long history never sits in memory at once.
absl::Status BigQueryWarehouse::ScanEvents(TimestampMicros after,
                                           const std::function<void(const Event&)>& visit) {
  return Read("scan events",
              fmt::format(
                  "SELECT event_id, station_id, ts_iso, kind, delta FROM {} WHERE ts_iso > @after "
                  "ORDER BY ts_iso",
                  Quoted(tables_.raw_events)),
              json::array({ScalarParameter("after", "TIMESTAMP", TimestampText(after))}),
              [&](const Rows& page) {
                for (const auto& r : page.rows) {
                  visit(Event{r[0].value_or(""), r[1].value_or(""), IntegerOf(r[2]), KindOf(r[3]),
                              std::int32_t(IntegerOf(r[4]))});
                }
              })
      .status();
}

absl::StatusOr<std::optional<TimestampMicros>> BigQueryWarehouse::LatestEventTime() {
  return MaxInstant("ts_iso", tables_.raw_events);
}

absl::StatusOr<std::optional<TimestampMicros>> BigQueryWarehouse::MaxInstant(
    const char* column, const std::string& table) {
  auto rows =
      Read(fmt::format("latest {}", table),
           fmt::format("SELECT MAX({}) AS latest FROM {}", column, Quoted(table)), json::array());
  if (!rows.ok()) return rows.status();
  if (rows->rows.empty() || rows->rows[0].empty() || !rows->rows[0][0])
    return std::optional<TimestampMicros>();
  return std::optional<TimestampMicros>(IntegerOf(rows->rows[0][0]));
}

absl::StatusOr<std::vector<StationTotals>> BigQueryWarehouse::EventTotals(TimestampMicros through) {
  auto rows = Read("event totals", EventTotalsQuery(Quoted(tables_.raw_events), Dialect()),
                   json::array({InstantParameter(1, through)}));
  if (!rows.ok()) return rows.status();
  std::vector<StationTotals> totals;
  for (const auto& r : rows->rows) {
    totals.push_back({r[0].value_or(""), KindOf(r[1]),
                      KindTotals{IntegerOf(r[2]), IntegerOf(r[3]), std::int32_t(IntegerOf(r[4])),
                                 std::int32_t(IntegerOf(r[5]))},
                      IntegerOf(r[6])});
  }
  return totals;
}

}  // namespace bikestream::bigquery
