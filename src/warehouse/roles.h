// The roles a warehouse plays, each a narrow interface that its callers depend on alone:
//   EventSink        commits batches of events and dead letters, exactly once (the Ingestor)
//   DeadLetterStore  lists dead letters and resolves replayed ones (dead-letter replay)
//   FeatureStore     computes, stores and reads station features; training sets (features)
//   EventHistory     reads raw_events back: totals, latest time, a scan (streaming rebuilds)
//   SqlConsole       runs one SQL statement for a person (query, show)
//   StationDirectory keeps the stations table: where each station is (gbfs, console)
//   ActivityReader   events per station and 15 minutes, the busiest stations (console)
// A backend implements them all as a `Warehouse` (warehouse.h). Unless a role says otherwise,
// an object is used from one thread at a time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "event/event.h"
#include "event/station.h"
#include "features/feature_rows.h"
#include "features/feature_spec.h"
#include "features/labels.h"

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
  virtual absl::StatusOr<std::vector<DeadLetterCount>> CountDeadLetters(TimestampMicros bucket,
                                                                        TimestampMicros from,
                                                                        TimestampMicros to) = 0;

  // In one transaction: stores `events` (dedup as in EventSink::Commit) and deletes the dead
  // letters with `resolved_ids`, whose payloads they are.
  virtual absl::StatusOr<CommitResult> ResolveDeadLetters(
      const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) = 0;
};

// A query's result as text, ready to print. Timestamps are already ISO 8601.
struct QueryResult {
  struct Cell {
    std::string text;
    bool is_null = false;
    bool is_number = false;
  };
  std::vector<std::string> columns;  // Empty for a statement that returns no rows.
  std::vector<std::vector<Cell>> rows;
  std::int64_t rows_changed = 0;  // For INSERT, UPDATE and DELETE.
};

// A training set: one row per station and as_of, one column per feature (the PIVOT).
struct TrainingSetRequest {
  std::vector<std::string> features;  // Column order.
  // Exactly one of:
  std::optional<TimestampMicros> as_of;                              // The rows at this as_of.
  std::optional<std::pair<TimestampMicros, TimestampMicros>> range;  // Every as_of in [from, to].
  // Rows of an entity file (features/labels.h): each gets the features at the latest as_of <= ts
  // (point in time: never a value computed after ts), its label columns kept as given.
  using LabelRow = ::bikestream::LabelRow;
  using Labels = ::bikestream::Labels;
  std::optional<Labels> labels;
};

// The station_features table: computed inside the warehouse from raw_events (set-based SQL;
// the events are never read into the process), or written as computed elsewhere.
class FeatureStore {
 public:
  virtual ~FeatureStore() = default;

  // Computes `features` for every station at `as_of`, without storing them.
  virtual absl::StatusOr<std::vector<FeatureRow>> ComputeFeatures(
      const std::vector<FeatureSpec>& features, TimestampMicros as_of) = 0;

  // Computes them as ComputeFeatures does and, in one transaction, replaces the stored rows of
  // these features at `as_of` with them. Returns the rows written.
  virtual absl::StatusOr<std::size_t> RefreshFeatures(const std::vector<FeatureSpec>& features,
                                                      TimestampMicros as_of) = 0;

  // The stored rows at `as_of`, ordered by station, feature and window.
  virtual absl::StatusOr<std::vector<FeatureRow>> StoredFeatures(TimestampMicros as_of) = 0;

  // `station_id`'s stored rows with as_of in [from, to], ordered by as_of, feature and window.
  virtual absl::StatusOr<std::vector<FeatureRow>> StationFeatureHistory(std::string_view station_id,
                                                                        TimestampMicros from,
                                                                        TimestampMicros to) = 0;

  // For each tick, replaces the stored rows of `feature_names` at the tick's as_of with its
  // rows; all ticks in one transaction (rows computed outside the warehouse, by the streaming
  // job). Every row of a tick carries that tick's as_of.
  virtual absl::Status WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                         const std::vector<FeatureTick>& ticks) = 0;

  // The latest as_of stored, if any.
  virtual absl::StatusOr<std::optional<TimestampMicros>> LatestFeatureTime() = 0;

  // Pivots station_features into a training set; columns: station_id, as_of (and ts and the
  // labels, for a labels request), then one per feature.
  virtual absl::StatusOr<QueryResult> TrainingSet(const TrainingSetRequest& request) = 0;
};

// raw_events read back, for engines that keep state outside the warehouse.
class EventHistory {
 public:
  virtual ~EventHistory() = default;

  // Calls `visit` with every event whose ts is after `after`, in ts order.
  virtual absl::Status ScanEvents(TimestampMicros after,
                                  const std::function<void(const Event&)>& visit) = 0;

  // The latest event time stored, if any.
  virtual absl::StatusOr<std::optional<TimestampMicros>> LatestEventTime() = 0;

  // Per station and kind, the totals of the events with ts at or before `through`.
  virtual absl::StatusOr<std::vector<StationTotals>> EventTotals(TimestampMicros through) = 0;
};

class SqlConsole {
 public:
  virtual ~SqlConsole() = default;

  // Runs one SQL statement (kInvalidArgument for several) and returns its rows. Not retried:
  // the statement may not be idempotent.
  virtual absl::StatusOr<QueryResult> Query(std::string_view sql) = 0;
};

// The stations table: one row per station_id.
class StationDirectory {
 public:
  virtual ~StationDirectory() = default;

  // In one transaction, inserts each station or replaces its row, unless the row stored is
  // from a later description (last_updated): so re-sending a description changes nothing, and
  // an old one never undoes a newer. The station ids must be distinct.
  virtual absl::Status UpsertStations(const std::vector<Station>& stations) = 0;

  // Every station, in station_id order.
  virtual absl::StatusOr<std::vector<Station>> ListStations() = 0;
};

// Events counted by kind, with the bikes they moved.
struct Activity {
  std::int64_t pickups = 0;
  std::int64_t pickup_bikes = 0;  // The pickups' deltas, summed.
  std::int64_t dropoffs = 0;
  std::int64_t dropoff_bikes = 0;

  std::int64_t events() const { return pickups + dropoffs; }
  void Add(const Event& event) {
    if (event.kind == Kind::kPickup) {
      ++pickups;
      pickup_bikes += event.delta;
    } else {
      ++dropoffs;
      dropoff_bikes += event.delta;
    }
  }
  friend bool operator==(const Activity&, const Activity&) = default;
};

// The console's buckets: 15 minutes of event time, aligned to the epoch (UTC).
inline constexpr TimestampMicros kActivityBucket = 15 * kMicrosPerMinute;

// The start of the bucket that holds `ts`.
inline TimestampMicros ActivityBucketOf(TimestampMicros ts) {
  return ts - ((ts % kActivityBucket) + kActivityBucket) % kActivityBucket;
}

// The first bucket start at or after `ts`: the buckets that start in [from, to) hold the events
// with ts in [ActivityBucketAtOrAfter(from), ActivityBucketAtOrAfter(to)).
inline TimestampMicros ActivityBucketAtOrAfter(TimestampMicros ts) {
  const TimestampMicros start = ActivityBucketOf(ts);
  if (start == ts) return ts;
  // The end of time has no bucket after it: every event is before it.
  return start > std::numeric_limits<TimestampMicros>::max() - kActivityBucket
             ? std::numeric_limits<TimestampMicros>::max()
             : start + kActivityBucket;
}

// A LIMIT as the engines take it: a 64-bit signed integer.
inline std::int64_t ActivityLimit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

struct ActivityBucket {
  TimestampMicros start = 0;
  Activity activity;
  friend bool operator==(const ActivityBucket&, const ActivityBucket&) = default;
};

struct StationActivity {
  std::string station_id;
  Activity activity;
  friend bool operator==(const StationActivity&, const StationActivity&) = default;
};

// raw_events as the console shows it: cheap enough to read on every refresh of a page.
class ActivityReader {
 public:
  virtual ~ActivityReader() = default;

  // `station_id`'s buckets that start in [from, to) and hold events, oldest first.
  virtual absl::StatusOr<std::vector<ActivityBucket>> StationBuckets(std::string_view station_id,
                                                                     TimestampMicros from,
                                                                     TimestampMicros to) = 0;

  // The `limit` stations with the most events in the buckets that start in [from, to), most
  // first (ties in station_id order).
  virtual absl::StatusOr<std::vector<StationActivity>> BusiestStations(TimestampMicros from,
                                                                       TimestampMicros to,
                                                                       std::size_t limit) = 0;

  // Brings what the reads above answer from up to date with raw_events, as the next read would
  // (SQLite's 15-minute totals, docs/adr/0008; the other engines read raw_events and have
  // nothing to do): a console does it before it serves, so that no page waits for it. True
  // when there was something to bring up to date.
  virtual absl::StatusOr<bool> CatchUp() { return false; }
};

}  // namespace bikestream
