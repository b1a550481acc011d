// EventSink: where events land, each commit one transaction that stores every event exactly
// once (the Ingestor's), and what a commit writes: events and dead letters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "event/event.h"

namespace bikestream {

// Marks a status as RowRefused() (an absl::Status payload's type URL).
inline constexpr char kRowRefusedPayload[] = "type.bikestream.dev/row-refused";

// Input that is not a valid event, kept verbatim with why.
struct DeadLetter {
  std::int64_t id = 0;  // Assigned by the warehouse; 0 before it is stored.
  TimestampMicros first_seen = 0;
  std::string source;                // Where it came from, e.g. "file:/data/in.jsonl".
  std::string message_id;            // Its identity within the source.
  std::string payload;               // The input as received.
  std::string reason;                // A stable code from ReasonCode().
  std::string error;                 // The human message.
  TimestampMicros publish_time = 0;  // When the broker accepted it; 0 when unknown.
};

// What one commit writes.
struct Batch {
  std::vector<Event> events;
  std::vector<DeadLetter> dead_letters;

  bool empty() const { return events.empty() && dead_letters.empty(); }
  std::size_t size() const { return events.size() + dead_letters.size(); }
  void clear() {
    events.clear();
    dead_letters.clear();
  }
};

struct CommitResult {
  std::size_t stored = 0;          // Events new to the table.
  std::size_t duplicates = 0;      // Events whose event_id was already stored.
  std::size_t dead_lettered = 0;   // Dead letters written (a redelivered one counts once more).
  std::vector<bool> newly_stored;  // Per event of the batch, in order: new to the table.
};

// Where events land. Every commit is one atomic, durable transaction: when `Commit` returns
// OK, each event of the batch is stored exactly once (keyed by event_id, in the same
// transaction as its row) and each dead letter once (keyed by source and message_id). A failed
// commit stores nothing, so the caller may retry the same batch or have it redelivered. A
// commit that failed because the engine refused the data of a row (a value it cannot hold, a
// constraint the table's owner added), which the batch without that row would not, fails
// with RowRefused(): the Ingestor then sets that row aside as a dead letter.
class EventSink {
 public:
  virtual ~EventSink() = default;

  // Writes the batch in one durable transaction; see the class comment for the guarantees.
  virtual absl::StatusOr<CommitResult> Commit(const Batch& batch) = 0;

  // How many sinks on the same store may usefully commit at once (see
  // IngestOptions::concurrent_writers); 1 where the engine takes one writer at a time.
  virtual int ConcurrentWriters() const { return 1; }
};

// The status of a commit refused for a row's data, with the engine's reason as `message`.
inline absl::Status RowRefused(std::string_view message) {
  absl::Status status =
      absl::InvalidArgumentError(absl::string_view(message.data(), message.size()));
  status.SetPayload(kRowRefusedPayload, absl::Cord("refused"));
  return status;
}

inline bool IsRowRefused(const absl::Status& status) {
  return status.GetPayload(kRowRefusedPayload).has_value();
}

}  // namespace bikestream
