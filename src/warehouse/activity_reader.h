// ActivityReader: events per station and 15 minutes, and the busiest stations, as the console
// shows them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"

namespace bikestream {

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
inline constexpr DurationMicros kActivityBucket = 15 * kMicrosPerMinute;

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
                                                                     TimePeriod period) = 0;

  // The `limit` stations with the most events in the buckets that start in [from, to), most
  // first (ties in station_id order).
  virtual absl::StatusOr<std::vector<StationActivity>> BusiestStations(TimePeriod period,
                                                                       std::size_t limit) = 0;

  // Brings what the reads above answer from up to date with raw_events, as the next read would
  // (SQLite's 15-minute totals, docs/adr/0008; the other engines read raw_events and have
  // nothing to do): a console does it before it serves, so that no page waits for it. True
  // when there was something to bring up to date.
  //
  // On SQLite a read may write: the reads and CatchUp fold new events into the totals table,
  // so an ActivityReader needs a store it may write to (on a read-only file whose totals are
  // behind, kFailedPrecondition says how to make it writable). The other engines only read.
  virtual absl::StatusOr<bool> CatchUp() { return false; }
};

}  // namespace bikestream
