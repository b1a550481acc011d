// Writing events and dead letters: one transaction per batch, dedup by the primary keys.
#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {

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
  if (auto status = PrepareWrites(); !status.ok()) return status;
  auto transaction = Transaction::Begin(db_.get());
  if (!transaction.ok()) return transaction.status();
  CommitResult result;
  if (auto status = InsertEvents(batch.events, &result); !status.ok()) return status;
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
    ++result.dead_lettered;
  }
  if (auto status = transaction->Commit(); !status.ok()) return status;
  return result;
}

absl::StatusOr<CommitResult> SqliteWarehouse::ResolveDeadLetters(const std::vector<Event>& events,
                                                                 const std::vector<std::int64_t>& resolved_ids) {
  if (auto status = PrepareWrites(); !status.ok()) return status;
  auto transaction = Transaction::Begin(db_.get());
  if (!transaction.ok()) return transaction.status();
  CommitResult result;
  if (auto status = InsertEvents(events, &result); !status.ok()) return status;
  for (std::int64_t id : resolved_ids) {
    delete_dead_letter_.Bind(1, id);
    if (auto changes = delete_dead_letter_.Run(); !changes.ok()) return changes.status();
  }
  if (auto status = transaction->Commit(); !status.ok()) return status;
  return result;
}

// Prepared once, on first write, so read-only commands work before Setup().
absl::Status SqliteWarehouse::PrepareWrites() {
  if (insert_event_.get()) return absl::OkStatus();
  const std::string raw = QuoteIdentifier(tables_.raw_events);
  const std::string dead = QuoteIdentifier(tables_.dead_letter);
  for (auto [statement, sql] : {
           std::pair{&insert_event_,
                     fmt::format("INSERT OR IGNORE INTO {} (event_id, station_id, ts_iso, kind, "
                                 "delta) VALUES (?, ?, ?, ?, ?)", raw)},
           std::pair{&insert_dead_letter_,
                     fmt::format("INSERT OR IGNORE INTO {} (first_seen, source, message_id, "
                                 "payload, reason, error, publish_time) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", dead)},
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

absl::Status SqliteWarehouse::InsertEvents(const std::vector<Event>& events, CommitResult* result) {
  std::vector<const Event*> stored;
  stored.reserve(events.size());
  for (const Event& event : events) {
    insert_event_.Bind(1, event.event_id);
    insert_event_.Bind(2, event.station_id);
    insert_event_.Bind(3, event.ts);
    insert_event_.Bind(4, KindName(event.kind));
    insert_event_.Bind(5, std::int64_t{event.delta});
    auto changes = insert_event_.Run();
    if (!changes.ok()) return changes.status();
    ++(*changes == 1 ? result->stored : result->duplicates);
    result->newly_stored.push_back(*changes == 1);
    if (*changes == 1) stored.push_back(&event);
  }
  return AddActivity(stored);
}

}  // namespace bikestream::sqlite
