#include "warehouse/bigquery/staging.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
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

// `columns` of the rows of `staged` where `present` is not NULL, as one relation.
std::string UnionOf(const std::vector<const StagedTable*>& staged, const std::string& columns,
                    const std::string& present) {
  std::string relation;
  for (const StagedTable* table : staged) {
    relation += fmt::format("{}SELECT {} FROM {} WHERE {} IS NOT NULL",
                            relation.empty() ? "" : "\n      UNION ALL ", columns,
                            Quoted(table->name), present);
  }
  return relation;
}

// The merge reads each staged table in the statements that need it only (each table a
// statement reads is billed 10 MB at least): events from the tables that hold events, letters
// from those that hold letters.
std::string MergeScript(const std::vector<StagedTable>& staged, const TableNames& tables,
                        bool with_days) {
  std::vector<const StagedTable*> with_events;
  std::vector<const StagedTable*> with_letters;
  for (const StagedTable& table : staged) {
    if (table.events > 0) with_events.push_back(&table);
    if (table.letters > 0) with_letters.push_back(&table);
  }
  const std::string raw = Quoted(tables.raw_events);
  const std::string dead = Quoted(tables.dead_letter);
  std::string script =
      fmt::format("BEGIN TRANSACTION;\nUPDATE {} SET commits = commits + 1 WHERE TRUE;\n",
                  Quoted(kWriterTable));
  if (!with_events.empty()) {
    const std::string not_stored = with_days
                                       ? fmt::format(
                                             " AND event_id NOT IN (SELECT event_id FROM {} WHERE "
                                             "ts_iso BETWEEN @first_day AND @last_day_end)",
                                             raw)
                                       : std::string();
    // Each event_id's first copy in the merge, not stored in its days yet.
    script += fmt::format(
        "CREATE TEMP TABLE new_events AS\n"
        "  SELECT batch, pos, event_id, station_id, ts_iso, kind, delta FROM (\n"
        "    SELECT batch, pos, event_id, station_id, ts_iso, kind, delta,\n"
        "           ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY batch, pos) AS copy\n"
        "    FROM ({}) AS staged) AS firsts\n"
        "  WHERE copy = 1{};\n"
        "INSERT INTO {} (event_id, station_id, ts_iso, kind, delta)\n"
        "  SELECT event_id, station_id, ts_iso, kind, delta FROM new_events;\n",
        UnionOf(with_events, "batch, pos, event_id, station_id, ts_iso, kind, delta", "event_id"),
        not_stored, raw);
  }
  if (!with_letters.empty()) {
    // Each (source, message_id) once, numbered after the largest id.
    script += fmt::format(
        "INSERT INTO {0} (id, first_seen, source, message_id, payload, reason, error, "
        "publish_time)\n"
        "  SELECT (SELECT COALESCE(MAX(id), 0) FROM {0}) + ROW_NUMBER() OVER (ORDER BY batch, "
        "pos),\n"
        "         first_seen, source, message_id, payload, reason, error, publish_time FROM (\n"
        "    SELECT batch, pos, first_seen, source, message_id, payload, reason, error, "
        "publish_time,\n"
        "           ROW_NUMBER() OVER (PARTITION BY source, message_id ORDER BY batch, pos) AS "
        "copy\n"
        "    FROM ({1}) AS staged) AS s\n"
        "  WHERE copy = 1 AND NOT EXISTS (SELECT 1 FROM {0} AS t\n"
        "                                 WHERE t.source = s.source AND t.message_id = "
        "s.message_id);\n",
        dead,
        UnionOf(with_letters,
                "batch, pos, first_seen, source, message_id, payload, reason, error, publish_time",
                "message_id"));
  }
  script += "COMMIT TRANSACTION;\n";
  script += with_events.empty()
                ? "SELECT CAST(NULL AS STRING) AS batch, CAST(NULL AS INT64) AS pos LIMIT 0;\n"
                : "SELECT batch, pos FROM new_events ORDER BY batch, pos;\n";
  return script;
}

// Keeps of `staged` the tables `choice` takes, dropping those it says are done with.
void TakeChosen(Client& client, const MergeChoice& choice, std::vector<StagedTable>& staged) {
  std::erase_if(staged, [&](const StagedTable& table) {
    const bool abandoned = table.created > 0 && table.created < choice.abandoned_before;
    if (choice.merged_already.contains(table.name) || abandoned) {
      client.DeleteTable(table.name).IgnoreError();  // Its worker died, gave up, or is slow.
      return true;
    }
    return choice.only && table.name != *choice.only;
  });
  if (staged.size() > choice.max_tables) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::shuffle(staged.begin(), staged.end(), random);
    staged.resize(choice.max_tables);
  }
}

}  // namespace

std::optional<StagedTable> ParseStagedTable(std::string_view name) {
  if (!name.starts_with(kStagePrefix)) return std::nullopt;
  const std::string_view rest = name.substr(std::string_view(kStagePrefix).size());
  const std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(rest.data(), rest.size()), '_');
  if (parts.size() != 5 || parts[0].empty()) return std::nullopt;
  StagedTable table{.name = std::string(name), .batch = parts[0]};
  if (!absl::SimpleAtoi(parts[1], &table.events) || !absl::SimpleAtoi(parts[2], &table.letters))
    return std::nullopt;
  if (parts[3] == kNoDay && parts[4] == kNoDay) return table;
  const auto first = DayStart(parts[3]);
  const auto last = DayStart(parts[4]);
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
  const std::string name = fmt::format("{}{}_{}_{}_{}", kStagePrefix, batch_id, batch.events.size(),
                                       batch.dead_letters.size(), days);
  absl::Status loaded = client.LoadRows("bikestream_stage_" + batch_id, name, StagedFields(),
                                        StagedRows(batch, batch_id));
  if (!loaded.ok()) return loaded;
  auto staged = ParseStagedTable(name);
  if (!staged) return absl::InternalError("staged table " + name + " has no staged name");
  return *staged;
}

absl::StatusOr<std::vector<StagedTable>> ListStaged(Client& client) {
  auto listed = client.ListTables(kStagePrefix);
  if (!listed.ok()) return listed.status();
  std::vector<StagedTable> staged;
  for (const ListedTable& table : *listed) {
    if (auto parsed = ParseStagedTable(table.id)) {
      parsed->created = table.created;
      staged.push_back(std::move(*parsed));
    }
  }
  return staged;
}

absl::StatusOr<std::optional<MergeAttempt>> MergeStaged(Client& client, const TableNames& tables,
                                                        const std::string& job_id,
                                                        const MergeChoice& choice) {
  auto staged = ListStaged(client);
  if (!staged.ok()) return staged.status();
  TakeChosen(client, choice, *staged);
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
  // Ours, and merged: the tables go. The next merge leaves out one not dropped here, and a
  // batch's worker reads its answer from the first merge that names its table.
  const bool ran_here = merged->query == sql;
  MergeAttempt attempt{.job = std::move(*merged), .ran_here = ran_here};
  if (attempt.ran_here && attempt.job.outcome.ok()) {
    for (const StagedTable& table : *staged) client.DeleteTable(table.name).IgnoreError();
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
