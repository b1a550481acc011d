// Writing events and dead letters: COPY into the ledger and raw_events, or insert-if-absent
// through the staging table; one transaction per batch.
#include <fmt/format.h>

#include <algorithm>

#include "absl/status/status.h"
#include "warehouse/postgres/postgres_backend.h"
#include "warehouse/postgres/postgres_rows.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::postgres {
namespace {

// Batches in a row without a stored id before writing goes back to plain COPY.
constexpr int kCleanBatchesToCopy = 4;

// The batch's positions in event_id order, the first of each repeated id only.
std::vector<std::size_t> FirstOfEachIdSorted(const std::vector<Event>& events) {
  std::vector<std::size_t> order(events.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return events[a].event_id < events[b].event_id;
  });
  order.erase(std::unique(order.begin(), order.end(),
                          [&](std::size_t a, std::size_t b) {
                            return events[a].event_id == events[b].event_id;
                          }),
              order.end());
  return order;
}

void AddEventFields(BinaryCopy& rows, const Event& e) {
  rows.AddText(e.event_id);
  rows.AddText(e.station_id);
  rows.AddTimestampTz(e.ts);
  rows.AddText(KindName(e.kind));
  rows.AddInt8(e.delta);
}

}  // namespace

absl::StatusOr<CommitResult> PostgresWarehouse::Commit(const Batch& batch) {
  return Retrying([&](PGconn* c) { return Write(c, batch.events, batch.dead_letters, {}); });
}

absl::StatusOr<CommitResult> PostgresWarehouse::ResolveDeadLetters(
    const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) {
  return Retrying([&](PGconn* c) { return Write(c, events, {}, resolved_ids); });
}

absl::StatusOr<CommitResult> PostgresWarehouse::Write(
    PGconn* c, const std::vector<Event>& events, const std::vector<DeadLetter>& letters,
    const std::vector<std::int64_t>& resolved_ids) {
  if (auto status = EnsurePartitions(c, events); !status.ok()) return status;
  if (auto status = EnsureStaging(c); !status.ok()) return status;
  auto transaction = Transaction::Begin(c);
  if (!transaction.ok()) return transaction.status();
  CommitResult result;
  if (auto status = InsertEvents(c, events, &result); !status.ok()) {
    if (MessageOf(status).find("no partition") == std::string_view::npos) return status;
    // Someone dropped a partition this process had made: make it again, and retry.
    months_.clear();
    return Prefixed("a partition was dropped", absl::AbortedError(std::string(MessageOf(status))));
  }
  if (auto status = InsertDeadLetters(c, letters, &result); !status.ok()) return status;
  if (!resolved_ids.empty()) {
    std::string ids = "{";
    for (std::int64_t id : resolved_ids) ids += fmt::format("{}{}", ids.size() > 1 ? "," : "", id);
    ids += "}";
    const Param params[] = {{ids}};
    auto removed =
        Exec(c, fmt::format("DELETE FROM {} WHERE id = ANY(CAST($1 AS bigint[]))", dead_), params);
    if (!removed.ok()) return removed.status();
  }
  if (auto status = transaction->Commit(); !status.ok()) return status;
  return result;
}

// Stores the batch's new events. Most batches hold none that are stored already: their ids
// and rows go by COPY straight into the ledger and raw_events (a COPY inserts a page of rows
// at a time; INSERT … SELECT one). When the ledger refuses an id, the batch goes again by
// the staging table, which skips the ids stored already, and so do the batches after it
// until kCleanBatchesToCopy in a row bring nothing stored before.
absl::Status PostgresWarehouse::InsertEvents(PGconn* c, const std::vector<Event>& events,
                                             CommitResult* result) {
  const std::vector<std::size_t> firsts = FirstOfEachIdSorted(events);
  result->newly_stored.assign(events.size(), false);
  result->stored = 0;
  result->duplicates = events.size();
  if (events.empty()) return absl::OkStatus();
  if (!expect_stored_ids_) {
    absl::Status copied = CopyNewEvents(c, events, firsts);
    if (copied.ok()) {
      for (std::size_t i : firsts) result->newly_stored[i] = true;
      result->stored = firsts.size();
      result->duplicates = events.size() - firsts.size();
      return absl::OkStatus();
    }
    if (copied.code() != absl::StatusCode::kAlreadyExists) return copied;
    expect_stored_ids_ = true;
    clean_batches_ = 0;
    return absl::AbortedError(
        "the batch holds events stored before: writing it again, skipping those");
  }
  if (auto status = InsertIfAbsent(c, events, firsts, result); !status.ok()) return status;
  const bool clean = result->stored == firsts.size();
  clean_batches_ = clean ? clean_batches_ + 1 : 0;
  if (clean_batches_ >= kCleanBatchesToCopy) expect_stored_ids_ = false;
  return absl::OkStatus();
}

// COPY of the ids into the ledger (it fails with kAlreadyExists if one is there) and of the
// events into raw_events, in station and time order, which is the order of its index.
absl::Status PostgresWarehouse::CopyNewEvents(PGconn* c, const std::vector<Event>& events,
                                              const std::vector<std::size_t>& firsts) {
  BinaryCopy ids;
  for (std::size_t i : firsts) {
    ids.BeginRow(1);
    ids.AddText(events[i].event_id);
  }
  if (auto status = CopyIn(c, copy_ids_, ids.Finish()); !status.ok()) return status;
  std::vector<std::size_t> by_station = firsts;
  std::sort(by_station.begin(), by_station.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(events[a].station_id, events[a].ts) <
           std::tie(events[b].station_id, events[b].ts);
  });
  BinaryCopy rows;
  for (std::size_t i : by_station) {
    rows.BeginRow(5);
    AddEventFields(rows, events[i]);
  }
  return CopyIn(c, copy_events_, rows.Finish());
}

absl::Status PostgresWarehouse::InsertIfAbsent(PGconn* c, const std::vector<Event>& events,
                                               const std::vector<std::size_t>& firsts,
                                               CommitResult* result) {
  BinaryCopy rows;
  for (std::size_t i : firsts) {
    rows.BeginRow(6);
    rows.AddInt4(static_cast<std::int32_t>(i));
    AddEventFields(rows, events[i]);
  }
  if (auto status = CopyIn(c, copy_staging_, rows.Finish()); !status.ok()) return status;
  auto stored = Exec(c, insert_if_absent_);
  if (!stored.ok()) return stored.status();
  for (int r = 0; r < PQntuples(stored->get()); ++r) {
    result->newly_stored[Integer(stored->get(), r, 0)] = true;
  }
  result->stored = PQntuples(stored->get());
  result->duplicates = events.size() - result->stored;
  return absl::OkStatus();
}

// Dead letters are rare: one statement each. Their text columns must be valid UTF-8, so the
// payload, verbatim, is bytea and the rest is made valid.
absl::Status PostgresWarehouse::InsertDeadLetters(PGconn* c, const std::vector<DeadLetter>& letters,
                                                  CommitResult* result) {
  const std::string sql = fmt::format(
      "INSERT INTO {} (first_seen, source, message_id, payload, reason, error, publish_time) "
      "VALUES ({}, $2, $3, $4, $5, $6, {}) ON CONFLICT (source, message_id) DO NOTHING",
      dead_, Instant(1), Instant(7));
  for (const DeadLetter& letter : letters) {
    const std::string first_seen = FormatRfc3339(letter.first_seen);
    const std::string publish_time = FormatRfc3339(letter.publish_time);
    const std::string source = ValidUtf8(letter.source);
    const std::string message_id = ValidUtf8(letter.message_id);
    const std::string error = ValidUtf8(letter.error);
    const Param params[] = {{first_seen},
                            {source},
                            {message_id},
                            {letter.payload, /*bytes=*/true},
                            {letter.reason},
                            {error},
                            {publish_time, false, letter.publish_time == 0}};
    if (auto inserted = Exec(c, sql, params); !inserted.ok()) return inserted.status();
    ++result->dead_lettered;
  }
  return absl::OkStatus();
}

}  // namespace bikestream::postgres
