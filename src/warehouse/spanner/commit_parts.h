// How a write is cut into read-write transactions that Spanner takes: at most 80,000 mutations
// and 100 MB a commit. The emulator enforces neither, so the counts are Spanner's published
// rule applied to this schema (schema.cc): an inserted row counts the columns it writes and, for
// each secondary index, the index's columns and the table's key; a deleted row counts one, and
// one for each secondary index.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "warehouse/warehouse.h"

namespace bikestream::spanner {

// raw_events: 6 columns; _by_station_time (station_id, ts_iso, kind, delta, event_id); _by_time
// (ts_iso, event_id).
inline constexpr std::size_t kEventInsertMutations = 6 + 5 + 2;
// dead_letter: 8 columns; _by_message (source, message_id, id); _by_reason (reason, id).
inline constexpr std::size_t kDeadLetterInsertMutations = 8 + 3 + 2;
inline constexpr std::size_t kDeadLetterDeleteMutations = 1 + 2;
// station_features: a row written (5 columns; _by_time: as_of and the three other key columns),
// a stored row deleted (one, and one for _by_time).
inline constexpr std::size_t kFeatureRowWriteMutations = 5 + 4;
inline constexpr std::size_t kFeatureRowDeleteMutations = 1 + 1;

struct CommitLimits {
  // A tenth below Spanner's 80,000: the counts are this file's reading of the rule, never
  // checked against Cloud Spanner, and a feature write counts stored rows before it runs.
  std::size_t mutations = 72'000;
  std::size_t dead_letter_bytes = 16'000'000;
};

// One transaction's share of a write: [from, from + count) of the events, the dead letters and
// the ids of the dead letters resolved.
struct CommitPart {
  struct Range {
    std::size_t from = 0;
    std::size_t count = 0;
  };
  Range events;
  Range letters;
  Range resolved;
};

// What a dead letter's insert weighs against the bytes a commit takes: its cells (the payload as
// kept, at most kMaxPayloadBytes), and its key again in the (source, message_id) index.
std::size_t DeadLetterBytes(const DeadLetter& letter);

// The parts of a write of `events` events, `letters` and `resolved` deletions, in that order,
// each within `limits` (a single row larger than them is a part of its own). Never empty: a
// write of nothing is one empty part. The deletions come after every event, so a write cut short
// after some parts has stored each resolved letter's event before deleting the letter.
std::vector<CommitPart> PlanCommitParts(std::size_t events, std::span<const DeadLetter> letters,
                                        std::size_t resolved, const CommitLimits& limits);

// A row of station_features to write, and its tick's as_of.
struct TickRow {
  TimestampMicros as_of = 0;
  const FeatureRow* row = nullptr;
};

// One transaction of a feature write: the stored rows of `names` at `as_ofs` deleted, then
// `rows` written.
struct FeatureTransaction {
  std::vector<TimestampMicros> as_ofs;
  std::vector<std::string> names;
  std::vector<TickRow> rows;
};

// Rows of station_features stored, by (as_of, feature_name).
using StoredFeatureCounts = std::map<std::pair<TimestampMicros, std::string>, std::size_t>;

// The transactions that replace `names` at each of `ticks` with the ticks' rows, within
// `limits.mutations` each, counting the stored rows each deletes (`stored`): runs of whole
// ticks, so that a tick is never half replaced, except a tick past one commit alone (thousands
// of stations), which goes in transactions of whole features (a feature past one commit is cut
// too, its first transaction deleting it). Fails only for a feature whose stored rows alone are
// past one commit.
absl::StatusOr<std::vector<FeatureTransaction>> PlanFeatureWrites(
    const std::vector<FeatureTick>& ticks, const std::vector<std::string>& names,
    const StoredFeatureCounts& stored, const CommitLimits& limits);

}  // namespace bikestream::spanner
