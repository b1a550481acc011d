// Reading the Spanner warehouse back, at a strong timestamp: SQL for a person, dead letters,
// events and their totals.
#include <fmt/format.h>

#include <cctype>
#include <limits>
#include <map>
#include <span>

#include "absl/strings/escaping.h"
#include "common/status.h"
#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/totals_query.h"

namespace bikestream::spanner {
namespace {

using json = nlohmann::json;

// Rows per read of ScanEvents: a page of events stays a few MB whatever the table holds.
constexpr std::int64_t kScanPage = 10'000;
// Dead-letter payload bytes per read (base64 in JSON: about 2.8 MB an answer).
constexpr std::size_t kPayloadBytesPerRead = 2 * 1024 * 1024;

Kind KindOf(std::string_view name) { return name == "pickup" ? Kind::kPickup : Kind::kDropoff; }

bool IsDml(std::string_view sql) {
  const std::size_t start = sql.find_first_not_of(" \t\r\n(");
  if (start == std::string_view::npos) return false;
  std::string word;
  for (char c : sql.substr(start, 6)) word.push_back(static_cast<char>(std::toupper(c)));
  return word.starts_with("INSERT") || word.starts_with("UPDATE") || word.starts_with("DELETE");
}

}  // namespace

absl::Status WithSetupHint(absl::Status status) {
  const std::string_view message = MessageOf(status);
  if (status.code() != absl::StatusCode::kNotFound &&
      message.find("Table not found") == std::string_view::npos) {
    return status;
  }
  return absl::FailedPreconditionError(
      fmt::format("{} (run `bikestream setup` to create the tables)", message));
}

absl::StatusOr<ResultSet> SpannerWarehouse::Read(const std::string& sql, const Params& params) {
  auto rows = client_.Query(sql, params);
  if (!rows.ok()) return WithSetupHint(rows.status());
  return rows;
}

std::string TextOf(const json& cell) { return cell.is_string() ? cell.get<std::string>() : ""; }

std::int64_t IntegerOf(const json& cell) { return Int64Of(cell).value_or(0); }

double DoubleOf(const json& cell) {
  if (cell.is_number()) return cell.get<double>();
  if (cell.is_string()) {
    const std::string text = cell.get<std::string>();
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return 0;
}

TimestampMicros InstantOf(const json& cell) {
  return cell.is_null() ? 0 : TimestampOf(cell).value_or(0);
}

QueryResult ForPeople(const ResultSet& rows) {
  QueryResult result;
  result.columns = rows.columns;
  for (const auto& row : rows.rows) {
    std::vector<QueryResult::Cell> cells;
    for (std::size_t i = 0; i < row.size() && i < rows.types.size(); ++i) {
      const std::string& type = rows.types[i];
      if (row[i].is_null()) {
        cells.push_back({.text = "NULL", .is_null = true});
      } else if (type == "TIMESTAMP") {
        cells.push_back({.text = FormatRfc3339(InstantOf(row[i]))});
      } else if (type == "FLOAT64" || type == "FLOAT32") {
        // As the other engines print a double: the shortest text that reads back as it.
        cells.push_back({.text = fmt::format("{}", DoubleOf(row[i])), .is_number = true});
      } else if (row[i].is_string()) {
        cells.push_back(
            {.text = row[i].get<std::string>(), .is_number = type == "INT64" || type == "NUMERIC"});
      } else {
        cells.push_back({.text = row[i].dump(), .is_number = row[i].is_number()});
      }
    }
    result.rows.push_back(std::move(cells));
  }
  result.rows_changed = rows.rows_changed;
  return result;
}

// One statement a call: a query at a strong timestamp, or DML in a read-write transaction.
absl::StatusOr<QueryResult> SpannerWarehouse::Query(std::string_view sql) {
  const std::vector<std::string_view> statements = SplitStatements(sql);
  if (statements.empty()) return QueryResult{};
  if (statements.size() > 1) {
    return absl::InvalidArgumentError("query: give one SQL statement at a time");
  }
  const std::string statement(statements.front());
  if (!IsDml(statement)) {
    auto rows = Read(statement);
    if (!rows.ok()) return rows.status();
    return ForPeople(*rows);
  }
  ResultSet changed;
  auto committed = client_.RunTransaction([&](Transaction& t) -> absl::Status {
    auto done = t.ExecuteSql(statement);
    if (!done.ok()) return done.status();
    changed = std::move(*done);
    return absl::OkStatus();
  });
  if (!committed.ok()) return WithSetupHint(committed.status());
  return ForPeople(changed);
}

absl::StatusOr<std::optional<TimestampMicros>> SpannerWarehouse::MaxInstant(
    std::string_view column, const std::string& table) {
  auto rows = Read(fmt::format("SELECT MAX({}) FROM {}", column, Quoted(table)));
  if (!rows.ok()) return rows.status();
  if (rows->rows.empty() || rows->rows[0][0].is_null()) return std::optional<TimestampMicros>();
  return std::optional<TimestampMicros>(InstantOf(rows->rows[0][0]));
}

// The rows without their payloads first, then the payloads by key in reads of a few MB each:
// one answer carries at most 4 MiB on the emulator (10 MiB on Spanner), a payload up to 1 MiB.
absl::StatusOr<std::vector<DeadLetter>> SpannerWarehouse::ListDeadLetters(
    const DeadLetterFilter& filter) {
  Params params = {{"after", Int64(filter.after_id)},
                   {"limit", Int64(static_cast<std::int64_t>(std::min<std::size_t>(
                                 filter.limit, std::numeric_limits<std::int64_t>::max())))},
                   {"reason", filter.reason ? String(*filter.reason) : Null("STRING")}};
  auto rows = Read(fmt::format("SELECT id, first_seen, source, message_id, BYTE_LENGTH(payload), "
                               "reason, error, publish_time FROM `{}` WHERE id > @after AND "
                               "(@reason IS NULL OR reason = @reason) ORDER BY id LIMIT @limit",
                               tables_.dead_letter),
                   params);
  if (!rows.ok()) return rows.status();
  std::vector<DeadLetter> letters;
  std::vector<std::size_t> sizes;
  letters.reserve(rows->rows.size());
  for (const auto& r : rows->rows) {
    letters.push_back(DeadLetter{IntegerOf(r[0]), InstantOf(r[1]), TextOf(r[2]), TextOf(r[3]), "",
                                 TextOf(r[5]), TextOf(r[6]), InstantOf(r[7])});
    sizes.push_back(static_cast<std::size_t>(IntegerOf(r[4])));
  }
  std::size_t start = 0;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i <= letters.size(); ++i) {
    if (i == letters.size() || (i > start && bytes + sizes[i] > kPayloadBytesPerRead)) {
      absl::Status read = ReadPayloads(std::span(letters).subspan(start, i - start));
      if (!read.ok()) return read;
      start = i;
      bytes = 0;
    }
    if (i < letters.size()) bytes += sizes[i];
  }
  return letters;
}

absl::Status SpannerWarehouse::ReadPayloads(std::span<DeadLetter> letters) {
  if (letters.empty()) return absl::OkStatus();
  json keys = json::array();
  for (const DeadLetter& l : letters) keys.push_back({std::to_string(l.id)});
  auto rows = client_.Read(tables_.dead_letter, {"id", "payload"}, {{"keys", keys}});
  if (!rows.ok()) return WithSetupHint(rows.status());
  std::map<std::int64_t, std::string> payloads;
  for (const auto& r : rows->rows) absl::Base64Unescape(TextOf(r[1]), &payloads[IntegerOf(r[0])]);
  // A letter resolved between the two reads keeps an empty payload.
  for (DeadLetter& l : letters) l.payload = std::move(payloads[l.id]);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DeadLetterCount>> SpannerWarehouse::CountDeadLetters(
    DurationMicros bucket, TimePeriod period) {
  auto rows =
      Read(DeadLetterCountsQuery(fmt::format("`{}`", tables_.dead_letter), bucket, Dialect()),
           {InstantParameter(1, period.from), InstantParameter(2, period.to)});
  if (!rows.ok()) return rows.status();
  std::vector<DeadLetterCount> counts;
  for (const auto& r : rows->rows)
    counts.push_back({TextOf(r[0]), IntegerOf(r[1]), IntegerOf(r[2])});
  return counts;
}

// Page by page in (ts_iso, event_id) order, each page starting after the last row of the one
// before.
absl::Status SpannerWarehouse::ScanEvents(TimestampMicros after,
                                          const std::function<void(const Event&)>& visit) {
  const std::string columns = "event_id, station_id, ts_iso, kind, delta";
  std::optional<std::pair<TimestampMicros, std::string>> last;
  for (;;) {
    Params params = {{"after", Timestamp(after)}, {"page", Int64(kScanPage)}};
    std::string where = "ts_iso > @after";
    if (last) {
      where = "(ts_iso > @ts OR (ts_iso = @ts AND event_id > @id))";
      params.push_back({"ts", Timestamp(last->first)});
      params.push_back({"id", String(last->second)});
    }
    auto rows = Read(fmt::format("SELECT {} FROM `{}` WHERE {} ORDER BY ts_iso, event_id "
                                 "LIMIT @page",
                                 columns, tables_.raw_events, where),
                     params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : rows->rows) {
      visit(Event{TextOf(r[0]), TextOf(r[1]), InstantOf(r[2]), KindOf(TextOf(r[3])),
                  static_cast<std::int32_t>(IntegerOf(r[4]))});
    }
    if (static_cast<std::int64_t>(rows->rows.size()) < kScanPage) return absl::OkStatus();
    const auto& end = rows->rows.back();
    last = {InstantOf(end[2]), TextOf(end[0])};
  }
}

absl::StatusOr<std::optional<TimestampMicros>> SpannerWarehouse::LatestEventTime() {
  return MaxInstant("ts_iso", tables_.raw_events);
}

absl::StatusOr<std::vector<StationTotals>> SpannerWarehouse::EventTotals(TimestampMicros through) {
  auto rows = Read(EventTotalsQuery(fmt::format("`{}`", tables_.raw_events), Dialect()),
                   {InstantParameter(1, through)});
  if (!rows.ok()) return rows.status();
  std::vector<StationTotals> totals;
  for (const auto& r : rows->rows) {
    totals.push_back(
        {TextOf(r[0]), KindOf(TextOf(r[1])),
         KindTotals{IntegerOf(r[2]), IntegerOf(r[3]), static_cast<std::int32_t>(IntegerOf(r[4])),
                    static_cast<std::int32_t>(IntegerOf(r[5]))},
         IntegerOf(r[6])});
  }
  return totals;
}

}  // namespace bikestream::spanner
