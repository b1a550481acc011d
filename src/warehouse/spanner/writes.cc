// Writing events and dead letters: one read-write transaction per batch (or per part of it that
// fits Spanner's limits of mutations and bytes a commit: commit_parts.h), which reads which events
// and dead letters are stored already and inserts the rest under the call's commit id
// (docs/adr/0010).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <span>

#include "absl/strings/escaping.h"
#include "common/status.h"
#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::spanner {
namespace {

using json = nlohmann::json;

// 32 random hex digits.
std::string NewCommitId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

bool IsOutcomeUnknown(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

json OptionalTimestamp(TimestampMicros instant) {
  return instant == 0 ? json(nullptr) : Timestamp(instant).value;
}

// The payload as kept: its first kMaxPayloadBytes; the error says when it was cut.
std::pair<std::string, std::string> KeptPayloadAndError(const DeadLetter& letter) {
  std::string error = ValidUtf8(letter.error);
  if (letter.payload.size() > kMaxPayloadBytes) {
    error += fmt::format(" (payload cut to its first {} of {} bytes: so that it fits one answer)",
                         kMaxPayloadBytes, letter.payload.size());
  }
  return {absl::Base64Escape(absl::string_view(letter.payload).substr(0, kMaxPayloadBytes)),
          std::move(error)};
}

}  // namespace

absl::StatusOr<CommitResult> SpannerWarehouse::Commit(const Batch& batch) {
  return Write(batch.events, batch.dead_letters, {});
}

absl::StatusOr<CommitResult> SpannerWarehouse::ResolveDeadLetters(
    const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) {
  return Write(events, {}, resolved_ids);
}

absl::StatusOr<CommitResult> SpannerWarehouse::Write(
    const std::vector<Event>& events, const std::vector<DeadLetter>& letters,
    const std::vector<std::int64_t>& resolved_ids) {
  const std::string first_event = events.empty() ? "" : events.front().event_id;
  const std::string commit_id = !first_event.empty() && first_event == failed_first_event_
                                    ? failed_commit_id_
                                    : NewCommitId();
  CommitResult result;
  result.newly_stored.assign(events.size(), false);
  result.dead_lettered = letters.size();
  // Several transactions where one would pass Spanner's limits, each dead letter resolved
  // deleted after its event is stored (commit_parts.h).
  std::set<std::string> counted;  // Ids this call's earlier parts counted.
  for (const CommitPart& part :
       PlanCommitParts(events.size(), letters, resolved_ids.size(), options_.limits)) {
    absl::Status written = WriteOnce(
        commit_id, std::span<const Event>(events).subspan(part.events.from, part.events.count),
        part.events.from, counted,
        std::span<const DeadLetter>(letters).subspan(part.letters.from, part.letters.count),
        std::span<const std::int64_t>(resolved_ids)
            .subspan(part.resolved.from, part.resolved.count),
        &result);
    if (!written.ok()) {
      failed_commit_id_ = commit_id;
      failed_first_event_ = first_event;
      return WithSetupHint(written);
    }
  }
  failed_commit_id_.clear();
  failed_first_event_.clear();
  for (bool stored : result.newly_stored) stored ? ++result.stored : ++result.duplicates;
  return result;
}

absl::Status SpannerWarehouse::WriteOnce(const std::string& commit_id,
                                         std::span<const Event> events, std::size_t offset,
                                         std::set<std::string>& counted,
                                         std::span<const DeadLetter> letters,
                                         std::span<const std::int64_t> resolved_ids,
                                         CommitResult* result) {
  std::vector<bool> newly(events.size(), false);
  auto body = [&](Transaction& t) -> absl::Status {
    std::fill(newly.begin(), newly.end(), false);
    std::vector<std::vector<json>> keys;
    keys.reserve(events.size());
    for (const Event& e : events) keys.push_back({e.event_id});
    std::map<std::string, std::string> stored;  // event_id → the commit id it was stored under.
    if (!keys.empty()) {
      auto found = t.Read(tables_.raw_events, "", {"event_id", "commit_id"}, keys);
      if (!found.ok()) return found.status();
      for (const auto& row : found->rows)
        stored[row[0].get<std::string>()] = row[1].get<std::string>();
    }
    Mutation insert{.table = tables_.raw_events,
                    .columns = {"event_id", "station_id", "ts_iso", "kind", "delta", "commit_id"}};
    std::set<std::string_view> seen(counted.begin(), counted.end());
    for (std::size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      if (!seen.insert(e.event_id).second) continue;  // A repeat within the batch.
      auto it = stored.find(e.event_id);
      if (it != stored.end()) {
        newly[i] = it->second == commit_id;  // Stored by this call's earlier transaction.
        continue;
      }
      newly[i] = true;
      insert.rows.push_back({e.event_id, e.station_id, Timestamp(e.ts).value,
                             std::string(KindName(e.kind)), std::to_string(e.delta), commit_id});
    }
    if (!insert.rows.empty()) t.Buffer(std::move(insert));
    if (!letters.empty()) {
      if (absl::Status kept = BufferDeadLetters(t, letters); !kept.ok()) return kept;
    }
    if (!resolved_ids.empty()) {
      Mutation remove{.kind = Mutation::Kind::kDelete, .table = tables_.dead_letter};
      for (std::int64_t id : resolved_ids) remove.rows.push_back({std::to_string(id)});
      t.Buffer(std::move(remove));
    }
    return absl::OkStatus();
  };
  // A commit whose answer was lost runs again under the same commit id: what it stored is
  // found and counted new, and nothing is inserted twice.
  absl::Status status;
  for (int attempt = 0; attempt < 5; ++attempt) {
    status = client_.RunTransaction(body).status();
    if (!IsOutcomeUnknown(status)) break;
  }
  if (!status.ok()) return status;
  for (std::size_t i = 0; i < newly.size(); ++i) {
    result->newly_stored[offset + i] = newly[i];
    counted.insert(events[i].event_id);
  }
  return absl::OkStatus();
}

// The dead letters not kept yet (by source and message_id), with ids after the largest one.
absl::Status SpannerWarehouse::BufferDeadLetters(Transaction& t,
                                                 std::span<const DeadLetter> letters) {
  std::vector<std::vector<json>> keys;
  keys.reserve(letters.size());
  for (const DeadLetter& l : letters)
    keys.push_back({ValidUtf8(l.source), ValidUtf8(l.message_id)});
  auto found = t.Read(tables_.dead_letter, tables_.dead_letter + "_by_message",
                      {"source", "message_id"}, keys);
  if (!found.ok()) return found.status();
  std::set<std::pair<std::string, std::string>> kept;
  for (const auto& row : found->rows)
    kept.insert({row[0].get<std::string>(), row[1].get<std::string>()});
  auto last =
      t.ExecuteSql(fmt::format("SELECT COALESCE(MAX(id), 0) FROM `{}`", tables_.dead_letter));
  if (!last.ok()) return last.status();
  auto next_id = Int64Of(last->rows.at(0).at(0));
  if (!next_id.ok()) return next_id.status();
  Mutation insert{.table = tables_.dead_letter,
                  .columns = {"id", "first_seen", "source", "message_id", "payload", "reason",
                              "error", "publish_time"}};
  for (std::size_t i = 0; i < letters.size(); ++i) {
    const DeadLetter& l = letters[i];
    if (!kept.insert({keys[i][0].get<std::string>(), keys[i][1].get<std::string>()}).second) {
      continue;  // Kept already, or twice in this batch.
    }
    auto [payload, error] = KeptPayloadAndError(l);
    insert.rows.push_back({std::to_string(++*next_id), Timestamp(l.first_seen).value, keys[i][0],
                           keys[i][1], std::move(payload), ValidUtf8(l.reason), std::move(error),
                           OptionalTimestamp(l.publish_time)});
  }
  if (!insert.rows.empty()) t.Buffer(std::move(insert));
  return absl::OkStatus();
}

}  // namespace bikestream::spanner
