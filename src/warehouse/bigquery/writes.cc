// Writing events and dead letters (docs/adr/0007): a commit is staged and merged
// (merge_committer.h); a replay, rare, is one multi-statement transaction run as a query job
// whose id is its own, as each commit is with transaction_per_batch.
#include <fmt/format.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "common/status.h"
#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

// A dead letter's payload is kept up to this, so that one letter always fits a request.
constexpr std::size_t kMaxPayloadBytes = 1024 * 1024;

json EventsParameter(const std::vector<Event>& events) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  rows.reserve(events.size());
  for (const Event& e : events) rows.push_back(EventRow(e));
  return StructArrayParameter("events", EventFields(), rows);
}

json DeadLettersParameter(const std::vector<DeadLetter>& letters) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  rows.reserve(letters.size());
  for (const DeadLetter& d : letters) rows.push_back(DeadLetterRow(d));
  return StructArrayParameter("dead_letters", DeadLetterFields(), rows);
}

}  // namespace

TimestampMicros FloorToDay(TimestampMicros ts) { return ts - ((ts % kDay) + kDay) % kDay; }

const std::vector<Field>& EventFields() {
  static const std::vector<Field> fields = {{"event_id", "STRING"},
                                            {"station_id", "STRING"},
                                            {"ts_iso", "TIMESTAMP"},
                                            {"kind", "STRING"},
                                            {"delta", "INT64"}};
  return fields;
}

const std::vector<Field>& DeadLetterFields() {
  static const std::vector<Field> fields = {{"first_seen", "TIMESTAMP"},  {"source", "STRING"},
                                            {"message_id", "STRING"},     {"payload", "STRING"},
                                            {"reason", "STRING"},         {"error", "STRING"},
                                            {"publish_time", "TIMESTAMP"}};
  return fields;
}

std::vector<std::optional<std::string>> EventRow(const Event& e) {
  return {e.event_id, e.station_id, TimestampText(e.ts), std::string(KindName(e.kind)),
          std::to_string(e.delta)};
}

std::vector<std::optional<std::string>> DeadLetterRow(const DeadLetter& d) {
  // JSON carries only UTF-8: bytes that are not are replaced (U+FFFD), as in PostgreSQL's text.
  std::string payload = ValidUtf8(d.payload.substr(0, kMaxPayloadBytes));
  std::string error = ValidUtf8(d.error);
  if (d.payload.size() > kMaxPayloadBytes) {
    error += fmt::format(" (payload cut to its first {} of {} bytes: BigQuery's request limit)",
                         kMaxPayloadBytes, d.payload.size());
  }
  return {TimestampText(d.first_seen),
          ValidUtf8(d.source),
          ValidUtf8(d.message_id),
          std::move(payload),
          ValidUtf8(d.reason),
          std::move(error),
          d.publish_time != 0 ? std::optional<std::string>(TimestampText(d.publish_time))
                              : std::nullopt};
}

absl::StatusOr<CommitResult> BigQueryWarehouse::Commit(const Batch& batch) {
  CommitResult result;
  if (batch.events.empty() && batch.dead_letters.empty()) return result;
  if (options_.transaction_per_batch) return Write(batch.events, batch.dead_letters, {});
  auto merged = committer_.Commit(batch);
  if (!merged.ok()) return merged.status();
  // Each batch carries its share of the merge's bill, so that the workers' bills add up to
  // about it (a dead worker's table's share is nobody's).
  if (cost_observer_) {
    cost_observer_({"merge", merged->bytes_processed_share, merged->bytes_billed_share});
  }
  result.newly_stored.assign(batch.events.size(), false);
  for (std::size_t pos : merged->stored_positions) {
    if (pos < batch.events.size()) result.newly_stored[pos] = true;
  }
  result.stored = merged->stored_positions.size();
  result.duplicates = batch.events.size() - result.stored;
  result.dead_lettered = batch.dead_letters.size();
  return result;
}

absl::StatusOr<CommitResult> BigQueryWarehouse::ResolveDeadLetters(
    const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) {
  return Write(events, {}, resolved_ids);
}

// The script, in one transaction: take the writer row (a merge running meanwhile is
// cancelled, or cancels this, which runs again; the count of merges is left as it is), keep the
// batch's first copy of each event id not stored in the batch's days, insert those, insert the dead
// letters not kept yet (ids after the largest), delete the resolved ones; then the positions of the
// events stored, the script's result.
absl::StatusOr<CommitResult> BigQueryWarehouse::Write(
    const std::vector<Event>& events, const std::vector<DeadLetter>& letters,
    const std::vector<std::int64_t>& resolved_ids) {
  CommitResult result;
  if (events.empty() && letters.empty() && resolved_ids.empty()) return result;
  const std::string raw = Quoted(tables_.raw_events);
  const std::string dead = Quoted(tables_.dead_letter);
  json parameters = json::array();
  std::string script = fmt::format(
      "BEGIN TRANSACTION;\nUPDATE {} SET commits = commits WHERE TRUE;\n", Quoted(kWriterTable));
  if (!events.empty()) {
    const auto [earliest, latest] = std::minmax_element(
        events.begin(), events.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
    parameters.push_back(EventsParameter(events));
    parameters.push_back(
        ScalarParameter("first_day", "TIMESTAMP", TimestampText(FloorToDay(earliest->ts))));
    // Inclusive, so that a batch on 9999-12-31 needs no instant past BigQuery's last.
    parameters.push_back(ScalarParameter("last_day_end", "TIMESTAMP",
                                         TimestampText(FloorToDay(latest->ts) + kDay - 1)));
    script += fmt::format(
        "CREATE TEMP TABLE new_events AS\n"
        "  SELECT * FROM UNNEST(@events) WITH OFFSET AS pos\n"
        "  WHERE pos IN (SELECT MIN(pos) FROM UNNEST(@events) WITH OFFSET AS pos GROUP BY "
        "event_id)\n"
        "    AND event_id NOT IN (SELECT event_id FROM {0} WHERE ts_iso BETWEEN @first_day AND "
        "@last_day_end);\n"
        "INSERT INTO {0} (event_id, station_id, ts_iso, kind, delta)\n"
        "  SELECT event_id, station_id, ts_iso, kind, delta FROM new_events;\n",
        raw);
  }
  if (!letters.empty()) {
    parameters.push_back(DeadLettersParameter(letters));
    script += fmt::format(
        "INSERT INTO {0} (id, first_seen, source, message_id, payload, reason, error, "
        "publish_time)\n"
        "  SELECT (SELECT COALESCE(MAX(id), 0) FROM {0}) + ROW_NUMBER() OVER (ORDER BY pos),\n"
        "         first_seen, source, message_id, payload, reason, error, publish_time\n"
        "  FROM UNNEST(@dead_letters) AS s WITH OFFSET AS pos\n"
        "  WHERE pos IN (SELECT MIN(pos) FROM UNNEST(@dead_letters) WITH OFFSET AS pos GROUP BY "
        "source, message_id)\n"
        "    AND NOT EXISTS (SELECT 1 FROM {0} AS t WHERE t.source = s.source AND t.message_id = "
        "s.message_id);\n",
        dead);
  }
  if (!resolved_ids.empty()) {
    std::vector<std::string> ids;
    ids.reserve(resolved_ids.size());
    for (std::int64_t id : resolved_ids) ids.push_back(std::to_string(id));
    parameters.push_back(ArrayParameter("resolved", "INT64", ids));
    script += fmt::format("DELETE FROM {} WHERE id IN UNNEST(@resolved);\n", dead);
  }
  script += "COMMIT TRANSACTION;\n";
  script += events.empty() ? "SELECT CAST(NULL AS INT64) AS pos LIMIT 0;\n"
                           : "SELECT pos FROM new_events ORDER BY pos;\n";

  const bool replay = !resolved_ids.empty();
  auto rows = RunJob(replay ? "replay" : "commit",
                     replay ? "bikestream_replay" : "bikestream_commit", script, parameters);
  // Too big for one request: refused like a row, so that the Ingestor commits it in halves.
  if (!rows.ok() && ReasonOf(rows.status()) == kRequestTooLarge)
    return RowRefused(MessageOf(rows.status()));
  if (!rows.ok()) return rows.status();
  result.newly_stored.assign(events.size(), false);
  for (const auto& row : rows->rows) {
    std::size_t pos = 0;
    if (!row.empty() && row[0] && absl::SimpleAtoi(*row[0], &pos) && pos < events.size()) {
      result.newly_stored[pos] = true;
    }
  }
  result.stored =
      std::size_t(std::count(result.newly_stored.begin(), result.newly_stored.end(), true));
  result.duplicates = events.size() - result.stored;
  result.dead_lettered = letters.size();
  return result;
}

}  // namespace bikestream::bigquery
