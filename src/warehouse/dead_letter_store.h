// DeadLetterStore: the dead letters listed, counted and resolved by a replay.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"
#include "warehouse/event_sink.h"

namespace bikestream {

struct DeadLetterFilter {
  std::optional<std::string> reason;  // Only this reason code. Default: all.
  std::int64_t after_id = 0;          // Only ids greater than this, for paging. Default: 0.
  std::size_t limit = 1000;           // At most this many, in id order. Default: 1000.
};

// How many dead letters of one reason were first seen in one bucket of time.
struct DeadLetterCount {
  std::string reason;
  TimestampMicros bucket = 0;  // The bucket's start (first_seen rounded down to the bucket).
  std::int64_t count = 0;
  friend bool operator==(const DeadLetterCount&, const DeadLetterCount&) = default;
};

class DeadLetterStore {
 public:
  virtual ~DeadLetterStore() = default;

  virtual absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(
      const DeadLetterFilter& filter) = 0;

  // The dead letters first seen in [from, to), counted by reason and by `bucket` (> 0) of
  // first_seen, buckets aligned to the epoch: oldest bucket first, reasons in order within one.
  virtual absl::StatusOr<std::vector<DeadLetterCount>> CountDeadLetters(DurationMicros bucket,
                                                                        TimePeriod period) = 0;

  // Stores `events` (dedup as in EventSink::Commit) and deletes the dead letters with
  // `resolved_ids`, whose payloads they are: in one transaction, or, where the engine must cut
  // a large write into several, deleting no letter before every event is stored (a write cut
  // short leaves letters whose events a replay then finds stored).
  virtual absl::StatusOr<CommitResult> ResolveDeadLetters(
      const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) = 0;
};

}  // namespace bikestream
