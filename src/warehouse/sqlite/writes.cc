// Writing events and dead letters: one transaction per batch, dedup by the primary keys
// (docs/adr/0002). Events go 64 to a statement; the late ones among them are added to the
// 15-minute totals (activity.cc).
#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {
namespace {

std::string InsertInBulkSql(const std::string& raw) {
  std::string sql = fmt::format(
      "INSERT OR IGNORE INTO {} (event_id, station_id, ts_iso, kind, delta) VALUES ", raw);
  for (std::size_t i = 0; i < kEventsPerInsert; ++i)
    sql += i == 0 ? "(?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?)";
  return sql;
}

// Binds `event` as the row whose first column is parameter `first`.
void BindEvent(Statement& insert, int first, const Event& event) {
  insert.Bind(first, event.event_id);
  insert.Bind(first + 1, event.station_id);
  insert.Bind(first + 2, event.ts);
  insert.Bind(first + 3, KindName(event.kind));
  insert.Bind(first + 4, std::int64_t{event.delta});
}

}  // namespace

absl::StatusOr<Transaction> Transaction::Begin(sqlite3* db) {
  if (auto status = Exec(db, "BEGIN IMMEDIATE"); !status.ok()) return status;
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

absl::Status Transaction::Commit() {
  absl::Status status = Exec(db_, "COMMIT");
  if (status.ok()) db_ = nullptr;  // Otherwise the destructor rolls back.
  return status;
}

absl::StatusOr<CommitResult> SqliteWarehouse::Commit(const Batch& batch) {
  return WriteWithEvents(batch.events, [&](CommitResult* result) {
    for (const DeadLetter& letter : batch.dead_letters) {
      insert_dead_letter_.Bind(1, letter.first_seen);
      insert_dead_letter_.Bind(2, letter.source);
      insert_dead_letter_.Bind(3, letter.message_id);
      insert_dead_letter_.Bind(4, letter.payload);
      insert_dead_letter_.Bind(5, letter.reason);
      insert_dead_letter_.Bind(6, letter.error);
      if (letter.publish_time != 0) {
        insert_dead_letter_.Bind(7, letter.publish_time);
      } else {
        insert_dead_letter_.BindNull(7);
      }
      if (auto changes = insert_dead_letter_.Run(); !changes.ok()) return changes.status();
      ++result->dead_lettered;
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<CommitResult> SqliteWarehouse::ResolveDeadLetters(
    const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) {
  return WriteWithEvents(events, [&](CommitResult*) {
    for (std::int64_t id : resolved_ids) {
      delete_dead_letter_.Bind(1, id);
      if (auto changes = delete_dead_letter_.Run(); !changes.ok()) return changes.status();
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<CommitResult> SqliteWarehouse::WriteWithEvents(
    const std::vector<Event>& events, const std::function<absl::Status(CommitResult*)>& rest) {
  if (auto status = PrepareWrites(); !status.ok()) return status;
  for (InsertMode mode : {InsertMode::kInBulk, InsertMode::kOneByOne}) {
    auto transaction = Transaction::Begin(db_.get());
    if (!transaction.ok()) return transaction.status();
    CommitResult result;
    auto exact = InsertEvents(events, mode, &result);
    if (!exact.ok()) return exact.status();
    if (!*exact) continue;  // Rolled back as `transaction` goes: once more, one by one.
    if (auto status = rest(&result); !status.ok()) return status;
    if (auto status = transaction->Commit(); !status.ok()) return status;
    return result;
  }
  return absl::InternalError("inserting one by one always knows which events are new");
}

// Prepared once, on first write, so read-only commands work before Setup().
absl::Status SqliteWarehouse::PrepareWrites() {
  if (insert_event_.get()) return absl::OkStatus();
  const std::string raw = QuoteIdentifier(tables_.raw_events);
  const std::string dead = QuoteIdentifier(tables_.dead_letter);
  for (auto [statement, sql] : {
           std::pair{&insert_event_,
                     fmt::format("INSERT OR IGNORE INTO {} (event_id, station_id, ts_iso, kind, "
                                 "delta) VALUES (?, ?, ?, ?, ?)",
                                 raw)},
           std::pair{&insert_events_in_bulk_, InsertInBulkSql(raw)},
           std::pair{&insert_dead_letter_,
                     fmt::format("INSERT OR IGNORE INTO {} (first_seen, source, message_id, "
                                 "payload, reason, error, publish_time) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 dead)},
           std::pair{&delete_dead_letter_, fmt::format("DELETE FROM {} WHERE id = ?", dead)},
           std::pair{&upsert_activity_, ActivityUpsertSql()},
       }) {
    auto prepared = Statement::Prepare(db_.get(), sql);
    if (!prepared.ok()) {
      insert_event_ = Statement();  // All or none: the next write prepares them again.
      return WithSetupHint(prepared.status());
    }
    *statement = std::move(*prepared);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SqliteWarehouse::InsertEvents(const std::vector<Event>& events,
                                                   InsertMode mode, CommitResult* result) {
  auto summed_before = SummedBefore();
  if (!summed_before.ok()) return summed_before.status();
  result->newly_stored.reserve(events.size());
  std::size_t next = 0;
  if (mode == InsertMode::kInBulk) {
    for (; next + kEventsPerInsert <= events.size(); next += kEventsPerInsert) {
      auto changes = InsertInBulk(&events[next]);
      if (!changes.ok()) return changes.status();
      // All new, or all there before (a second copy within the rows would leave one stored).
      if (*changes != 0 && std::size_t(*changes) != kEventsPerInsert) return false;
      (*changes == 0 ? result->duplicates : result->stored) += kEventsPerInsert;
      result->newly_stored.insert(result->newly_stored.end(), kEventsPerInsert, *changes != 0);
    }
  }
  for (; next < events.size(); ++next) {
    BindEvent(insert_event_, 1, events[next]);
    auto changes = insert_event_.Run();
    if (!changes.ok()) return changes.status();
    ++(*changes == 1 ? result->stored : result->duplicates);
    result->newly_stored.push_back(*changes == 1);
  }
  std::vector<const Event*> late;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (result->newly_stored[i] && events[i].ts < *summed_before) late.push_back(&events[i]);
  }
  if (auto status = AddActivity(late); !status.ok()) return status;
  return true;
}

absl::StatusOr<int> SqliteWarehouse::InsertInBulk(const Event* events) {
  for (std::size_t i = 0; i < kEventsPerInsert; ++i) {
    BindEvent(insert_events_in_bulk_, static_cast<int>(i) * kEventColumns + 1, events[i]);
  }
  return insert_events_in_bulk_.Run();
}

}  // namespace bikestream::sqlite
