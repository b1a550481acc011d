// Streaming features: incremental per-station window state that writes, at each tick of event
// time, the same station_features rows the batch SQL writes for that as_of.
//
// Events are added once each (the ingest job feeds only events new to the warehouse, so
// redeliveries never count twice). State is kept in buckets of `granularity` (the gcd of the
// tick interval and every window), per station and kind, back to the longest window plus the
// allowed lateness; older buckets fold into all-time totals. A tick T is due once the
// watermark — the latest event time seen, or the clock when the source is idle — reaches it.
// An event at or before an emitted tick and no older than the allowed lateness marks the ticks
// it changes for rewriting; an older one still counts in every later tick and in `too_late()`.
// Not thread-safe: the ingest thread drives it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"
#include "features/feature_rows.h"
#include "features/feature_spec.h"

namespace bikestream {

class StreamingFeatures {
 public:
  // Fails when a window is not a multiple of a second, or `every` is not positive.
  static absl::StatusOr<StreamingFeatures> Create(std::vector<FeatureSpec> features,
                                                  DurationMicros every,
                                                  DurationMicros allowed_lateness);

  // Resumes after `last_emitted` (a tick already written), so the next ticks follow it.
  void ResumeAfter(TimestampMicros last_emitted);

  // Counts one event (each event once).
  void Add(const Event& event);

  // Folds a station's totals of events at or before the retained horizon (from the
  // warehouse, on restart) into its all-time state.
  void AddHistory(const StationTotals& history);

  // Moves the watermark to `t` if that is later (the clock, when the source is idle).
  void AdvanceWatermark(TimestampMicros t);

  // The ticks due or to rewrite, each with every row, in time order. Marks them emitted.
  std::vector<FeatureTick> TakeDueTicks();

  // The rows for any tick within the retained state (for tests and rewrites).
  std::vector<FeatureRow> Compute(TimestampMicros as_of) const;

  std::uint64_t too_late() const { return too_late_; }
  TimestampMicros watermark() const { return watermark_; }
  // Whether an event, a resumed tick or the clock has set the watermark yet.
  bool has_watermark() const { return watermark_ != std::numeric_limits<TimestampMicros>::min(); }
  // How far back the state must be rebuilt from the warehouse on restart.
  DurationMicros retention() const { return retention_; }

 private:
  StreamingFeatures() = default;

  struct Station {
    TimestampMicros first_ts = 0;
    bool known = false;
    // Bucket index → totals per kind, for the retained buckets.
    std::map<std::int64_t, std::array<KindTotals, 2>> buckets;
    std::array<KindTotals, 2> folded;  // Every bucket older than the retained ones.
  };

  std::int64_t BucketOf(TimestampMicros ts) const;
  KindTotals Totals(const Station& station, Kind kind, std::optional<TimestampMicros> window,
                    TimestampMicros as_of) const;
  void Fold(TimestampMicros up_to);

  std::vector<FeatureSpec> features_;
  DurationMicros every_ = 0;
  DurationMicros lateness_ = 0;
  DurationMicros granularity_ = 0;
  DurationMicros retention_ = 0;
  std::unordered_map<std::string, Station> stations_;
  TimestampMicros watermark_ = std::numeric_limits<TimestampMicros>::min();
  std::optional<TimestampMicros> last_emitted_;
  std::set<TimestampMicros> to_rewrite_;
  std::int64_t folded_through_ = std::numeric_limits<std::int64_t>::min();  // Bucket index.
  std::uint64_t too_late_ = 0;
};

}  // namespace bikestream
