#include "warehouse/bigquery/staging.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "event/timestamp.h"
#include "warehouse/bigquery/bigquery_backend.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

constexpr char kNoDay[] = "none";

// A staged row: the batch, the position, then an event's columns or a dead letter's.
const std::vector<Field>& StagedFields() {
  static const std::vector<Field> fields = [] {
    std::vector<Field> all = {{"batch", "STRING"}, {"pos", "INT64"}};
    all.insert(all.end(), EventFields().begin(), EventFields().end());
    all.insert(all.end(), DeadLetterFields().begin(), DeadLetterFields().end());
    return all;
  }();
  return fields;
}

std::string DayText(TimestampMicros ts) {
  std::string day = FormatRfc3339(FloorToDay(ts)).substr(0, 10);
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  return day;
}

// A staged table's days as instants: [first day's start, last day's end], or nullopt.
std::optional<std::pair<TimestampMicros, TimestampMicros>> DaysOf(const std::string& table) {
  const std::vector<std::string> parts = absl::StrSplit(table, '_');
  if (parts.size() < 2 || parts.back() == kNoDay) return std::nullopt;
  const auto instant = [](const std::string& day) {
    return ParseRfc3339(
        fmt::format("{}-{}-{}T00:00:00Z", day.substr(0, 4), day.substr(4, 2), day.substr(6, 2)));
  };
  auto first = instant(parts[parts.size() - 2]);
  auto last = instant(parts.back());
  if (!first.ok() || !last.ok()) return std::nullopt;
  return std::pair(*first, *last + kDay - 1);
}

std::string StagedRows(const Batch& batch, const std::string& batch_id) {
  std::string rows;
  // `cells` in the order of `fields`, after the batch and the position; NULLs left out.
  const auto append = [&](std::size_t pos, const std::vector<Field>& fields,
                          const std::vector<std::optional<std::string>>& cells) {
    json row = {{"batch", batch_id}, {"pos", pos}};
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (cells[c]) row[fields[c].name] = *cells[c];
    }
    rows += row.dump(-1, ' ', false, json::error_handler_t::replace);
    rows += '\n';
  };
  for (std::size_t pos = 0; pos < batch.events.size(); ++pos) {
    append(pos, EventFields(), EventRow(batch.events[pos]));
  }
  for (std::size_t pos = 0; pos < batch.dead_letters.size(); ++pos) {
    append(pos, DeadLetterFields(), DeadLetterRow(batch.dead_letters[pos]));
  }
  return rows;
}

std::string MergeScript(const std::vector<std::string>& staged, const TableNames& tables,
                        bool with_days) {
  std::string columns;
  for (const Field& field : StagedFields()) columns += (columns.empty() ? "" : ", ") + field.name;
  std::string union_all;
  for (const std::string& table : staged) {
    union_all += fmt::format("{}SELECT {} FROM {}", union_all.empty() ? "" : "\n  UNION ALL ",
                             columns, Quoted(table));
  }
  const std::string raw = Quoted(tables.raw_events);
  const std::string dead = Quoted(tables.dead_letter);
  return fmt::format(
      "BEGIN TRANSACTION;\n"
      "UPDATE {writer} SET commits = commits + 1 WHERE TRUE;\n"
      "CREATE TEMP TABLE staged AS\n  {union_all};\n"
      // Each event_id's first copy in the merge, not stored in its days yet.
      "CREATE TEMP TABLE new_events AS\n"
      "  SELECT batch, pos, event_id, station_id, ts_iso, kind, delta FROM (\n"
      "    SELECT batch, pos, event_id, station_id, ts_iso, kind, delta,\n"
      "           ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY batch, pos) AS copy\n"
      "    FROM staged WHERE event_id IS NOT NULL) AS firsts\n"
      "  WHERE copy = 1{not_stored};\n"
      "INSERT INTO {raw} (event_id, station_id, ts_iso, kind, delta)\n"
      "  SELECT event_id, station_id, ts_iso, kind, delta FROM new_events;\n"
      // Each (source, message_id) once, numbered after the largest id.
      "INSERT INTO {dead} (id, first_seen, source, message_id, payload, reason, error, "
      "publish_time)\n"
      "  SELECT (SELECT COALESCE(MAX(id), 0) FROM {dead}) + ROW_NUMBER() OVER (ORDER BY batch, "
      "pos),\n"
      "         first_seen, source, message_id, payload, reason, error, publish_time FROM (\n"
      "    SELECT batch, pos, first_seen, source, message_id, payload, reason, error, "
      "publish_time,\n"
      "           ROW_NUMBER() OVER (PARTITION BY source, message_id ORDER BY batch, pos) AS copy\n"
      "    FROM staged WHERE message_id IS NOT NULL) AS s\n"
      "  WHERE copy = 1 AND NOT EXISTS (SELECT 1 FROM {dead} AS t\n"
      "                                 WHERE t.source = s.source AND t.message_id = "
      "s.message_id);\n"
      "COMMIT TRANSACTION;\n"
      "SELECT batch, pos FROM new_events ORDER BY batch, pos;\n",
      fmt::arg("writer", Quoted(kWriterTable)), fmt::arg("union_all", union_all),
      fmt::arg("raw", raw), fmt::arg("dead", dead),
      fmt::arg("not_stored",
               with_days ? fmt::format(" AND event_id NOT IN (SELECT event_id FROM {} WHERE "
                                       "ts_iso BETWEEN @first_day AND @last_day_end)",
                                       raw)
                         : std::string()));
}

}  // namespace

absl::StatusOr<std::string> StageBatch(Client& client, const Batch& batch,
                                       const std::string& batch_id) {
  std::string days = fmt::format("{0}_{0}", kNoDay);
  if (!batch.events.empty()) {
    const auto [earliest, latest] =
        std::minmax_element(batch.events.begin(), batch.events.end(),
                            [](const Event& a, const Event& b) { return a.ts < b.ts; });
    days = DayText(earliest->ts) + "_" + DayText(latest->ts);
  }
  const std::string table = fmt::format("{}{}_{}", kStagePrefix, batch_id, days);
  absl::Status loaded = client.LoadRows("bikestream_stage_" + batch_id, table, StagedFields(),
                                        StagedRows(batch, batch_id));
  if (!loaded.ok()) return loaded;
  return table;
}

absl::StatusOr<MergeResult> MergeStaged(Client& client, const TableNames& tables) {
  MergeResult result;
  auto staged = client.ListTables(kStagePrefix);
  if (!staged.ok()) return staged.status();
  if (staged->empty()) return result;
  std::optional<std::pair<TimestampMicros, TimestampMicros>> days;
  for (const std::string& table : *staged) {
    const auto own = DaysOf(table);
    if (!own) continue;
    days = days ? std::pair(std::min(days->first, own->first), std::max(days->second, own->second))
                : *own;
  }
  json parameters = json::array();
  if (days) {
    parameters.push_back(ScalarParameter("first_day", "TIMESTAMP", TimestampText(days->first)));
    parameters.push_back(ScalarParameter("last_day_end", "TIMESTAMP", TimestampText(days->second)));
  }
  result.job_id = UniqueJobId("bikestream_merge");
  auto rows =
      client.RunQueryJob(result.job_id, MergeScript(*staged, tables, days.has_value()), parameters);
  if (!rows.ok()) return rows.status();
  result.bytes_billed = rows->bytes_billed;
  for (const auto& row : rows->rows) {
    std::size_t pos = 0;
    if (row.size() == 2 && row[0] && row[1] && absl::SimpleAtoi(*row[1], &pos)) {
      result.newly_stored[*row[0]].push_back(pos);
    }
  }
  // Merged: the tables go. One left by a failure here merges again, as duplicates only.
  for (const std::string& table : *staged) {
    if (absl::Status dropped = client.DeleteTable(table); !dropped.ok()) return dropped;
  }
  result.merged_tables = std::move(*staged);
  return result;
}

}  // namespace bikestream::bigquery
