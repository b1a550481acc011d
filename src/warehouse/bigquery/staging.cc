#include "warehouse/bigquery/staging.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

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

std::optional<TimestampMicros> DayStart(const std::string& day) {
  if (day.size() != 8) return std::nullopt;
  auto instant = ParseRfc3339(
      fmt::format("{}-{}-{}T00:00:00Z", day.substr(0, 4), day.substr(4, 2), day.substr(6, 2)));
  if (!instant.ok()) return std::nullopt;
  return *instant;
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

std::string MergeScript(const std::vector<StagedTable>& staged, const TableNames& tables,
                        bool with_days) {
  std::string columns;
  for (const Field& field : StagedFields()) columns += (columns.empty() ? "" : ", ") + field.name;
  std::string union_all;
  for (const StagedTable& table : staged) {
    union_all += fmt::format("{}SELECT {} FROM {}", union_all.empty() ? "" : "\n  UNION ALL ",
                             columns, Quoted(table.name));
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

std::optional<StagedTable> ParseStagedTable(std::string_view name) {
  if (!name.starts_with(kStagePrefix)) return std::nullopt;
  const std::string_view rest = name.substr(std::string_view(kStagePrefix).size());
  const std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(rest.data(), rest.size()), '_');
  StagedTable table{.name = std::string(name), .batch = parts[0]};
  if (parts.size() != 4 || table.batch.empty() || !absl::SimpleAtoi(parts[1], &table.rows))
    return std::nullopt;
  if (parts[2] == kNoDay && parts[3] == kNoDay) return table;
  const auto first = DayStart(parts[2]);
  const auto last = DayStart(parts[3]);
  if (!first || !last) return std::nullopt;
  table.days = std::pair(*first, *last + kDay - 1);
  return table;
}

std::string NewBatchId() {
  const std::string id = UniqueJobId("b");
  return id.substr(id.find('_') + 1);
}

absl::StatusOr<StagedTable> StageBatch(Client& client, const Batch& batch,
                                       const std::string& batch_id) {
  std::string days = fmt::format("{0}_{0}", kNoDay);
  if (!batch.events.empty()) {
    const auto [earliest, latest] =
        std::minmax_element(batch.events.begin(), batch.events.end(),
                            [](const Event& a, const Event& b) { return a.ts < b.ts; });
    days = DayText(earliest->ts) + "_" + DayText(latest->ts);
  }
  const std::string name = fmt::format("{}{}_{}_{}", kStagePrefix, batch_id,
                                       batch.events.size() + batch.dead_letters.size(), days);
  absl::Status loaded = client.LoadRows("bikestream_stage_" + batch_id, name, StagedFields(),
                                        StagedRows(batch, batch_id));
  if (!loaded.ok()) return loaded;
  auto staged = ParseStagedTable(name);
  if (!staged) return absl::InternalError("staged table " + name + " has no staged name");
  return *staged;
}

absl::StatusOr<std::vector<StagedTable>> ListStaged(Client& client) {
  auto names = client.ListTables(kStagePrefix);
  if (!names.ok()) return names.status();
  std::vector<StagedTable> staged;
  for (const std::string& name : *names) {
    if (auto table = ParseStagedTable(name)) staged.push_back(std::move(*table));
  }
  return staged;
}

absl::StatusOr<std::optional<MergeAttempt>> MergeStaged(Client& client, const TableNames& tables,
                                                        const std::string& job_id) {
  auto staged = ListStaged(client);
  if (!staged.ok()) return staged.status();
  if (staged->empty()) return std::optional<MergeAttempt>();
  std::optional<std::pair<TimestampMicros, TimestampMicros>> days;
  for (const StagedTable& table : *staged) {
    if (!table.days) continue;
    days = days ? std::pair(std::min(days->first, table.days->first),
                            std::max(days->second, table.days->second))
                : *table.days;
  }
  json parameters = json::array();
  if (days) {
    parameters.push_back(ScalarParameter("first_day", "TIMESTAMP", TimestampText(days->first)));
    parameters.push_back(ScalarParameter("last_day_end", "TIMESTAMP", TimestampText(days->second)));
  }
  const std::string sql = MergeScript(*staged, tables, days.has_value());
  auto merged = client.RunQueryJobOnce(job_id, sql, parameters);
  if (!merged.ok()) return merged.status();
  // Ours, and merged: the tables go. One left by a failure here merges again, as duplicates
  // only, and the batch's worker reads its answer from this merge, the first that names it.
  const bool ran_here = merged->query == sql;
  MergeAttempt attempt{.job = std::move(*merged), .ran_here = ran_here};
  if (attempt.ran_here && attempt.job.outcome.ok()) {
    for (const StagedTable& table : *staged) {
      if (absl::Status dropped = client.DeleteTable(table.name); !dropped.ok()) return dropped;
    }
  }
  return std::optional<MergeAttempt>(std::move(attempt));
}

std::set<std::string> TablesMergedBy(std::string_view merge_sql) {
  static const std::regex kStaged(std::string("`(") + kStagePrefix + R"(\w+)`)");
  std::set<std::string> names;
  const std::string sql(merge_sql);
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), kStaged);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

std::vector<std::size_t> StoredPositions(const Rows& merge_result, const std::string& batch_id) {
  std::vector<std::size_t> positions;
  for (const auto& row : merge_result.rows) {
    std::size_t pos = 0;
    if (row.size() == 2 && row[0] == batch_id && row[1] && absl::SimpleAtoi(*row[1], &pos))
      positions.push_back(pos);
  }
  std::sort(positions.begin(), positions.end());
  return positions;
}

}  // namespace bikestream::bigquery
