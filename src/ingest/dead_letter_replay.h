// Re-validates dead letters and moves those now valid into raw_events, exactly once.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "event/event.h"
#include "warehouse/dead_letter_store.h"

namespace bikestream {

struct ReplayResult {
  std::uint64_t examined = 0;
  std::uint64_t stored = 0;      // Now valid and new to raw_events.
  std::uint64_t duplicates = 0;  // Now valid, but the event_id was already stored.
  std::uint64_t still_invalid = 0;
  // The earliest event time of those stored: feature ticks from it on were computed without
  // them. Empty when none was stored.
  std::optional<TimestampMicros> earliest_stored;
};

// Replays every dead letter (with `reason`, when given) under `rules`. Each page of valid ones
// is stored and its dead letters deleted in one transaction; invalid ones stay as they are.
absl::StatusOr<ReplayResult> ReplayDeadLetters(DeadLetterStore& store,
                                               const std::optional<std::string>& reason,
                                               const ValidationRules& rules = {});

}  // namespace bikestream
