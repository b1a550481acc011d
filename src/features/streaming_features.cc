#include "features/streaming_features.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "absl/status/status.h"
#include "features/aggregates.h"

namespace bikestream {
namespace {

int KindIndex(Kind kind) { return kind == Kind::kPickup ? 0 : 1; }

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

absl::StatusOr<StreamingFeatures> StreamingFeatures::Create(std::vector<FeatureSpec> features,
                                                            DurationMicros every,
                                                            DurationMicros allowed_lateness) {
  if (every <= 0 || every % kMicrosPerSecond != 0) {
    return absl::InvalidArgumentError("the tick interval must be a whole number of seconds");
  }
  if (allowed_lateness < 0)
    return absl::InvalidArgumentError("--allowed-lateness must not be negative");
  StreamingFeatures engine;
  engine.granularity_ = every;
  DurationMicros longest = 0;
  for (const FeatureSpec& f : features) {
    if (!f.window) continue;
    if (*f.window % kMicrosPerSecond != 0) {
      return absl::InvalidArgumentError(
          fmt::format("feature '{}': the window must be whole seconds", f.name));
    }
    engine.granularity_ = std::gcd(engine.granularity_, *f.window);
    longest = std::max(longest, *f.window);
  }
  engine.features_ = std::move(features);
  engine.every_ = every;
  engine.lateness_ = allowed_lateness;
  engine.retention_ = longest + allowed_lateness + every;
  return engine;
}

void StreamingFeatures::ResumeAfter(TimestampMicros last_emitted) {
  last_emitted_ = last_emitted;
  watermark_ = std::max(watermark_, last_emitted);
  // What was written last may miss events committed after it and before a crash.
  for (TimestampMicros t = last_emitted; t >= last_emitted - lateness_; t -= every_)
    to_rewrite_.insert(t);
}

std::int64_t StreamingFeatures::BucketOf(TimestampMicros ts) const {
  // Bucket b holds ((b − 1)·g, b·g], matching windows that exclude their start.
  return FloorDiv(ts - 1, granularity_) + 1;
}

void StreamingFeatures::Add(const Event& event) {
  Station& station = stations_[event.station_id];
  if (!station.known || event.ts < station.first_ts) {
    station.first_ts = event.ts;
    station.known = true;
  }
  const std::int64_t bucket = BucketOf(event.ts);
  const int kind = KindIndex(event.kind);
  if (bucket <= folded_through_) {
    station.folded[kind].Add(event.delta);
  } else {
    station.buckets[bucket][kind].Add(event.delta);
  }
  if (last_emitted_ && event.ts <= *last_emitted_) {
    if (event.ts >= watermark_ - lateness_) {
      // Every emitted tick from the event's own on holds it (all-time features at least).
      const TimestampMicros first = BucketOf(event.ts) * granularity_;
      for (TimestampMicros t = *last_emitted_; t >= first; t -= every_) to_rewrite_.insert(t);
    } else {
      ++too_late_;
    }
  }
  watermark_ = std::max(watermark_, event.ts);
}

void StreamingFeatures::AddHistory(const StationTotals& history) {
  Station& station = stations_[history.station_id];
  if (!station.known || history.first_ts < station.first_ts) {
    station.first_ts = history.first_ts;
    station.known = true;
  }
  station.folded[KindIndex(history.kind)].Merge(history.totals);
}

void StreamingFeatures::AdvanceWatermark(TimestampMicros t) {
  watermark_ = std::max(watermark_, t);
}

KindTotals StreamingFeatures::Totals(const Station& station, Kind kind,
                                     std::optional<TimestampMicros> window,
                                     TimestampMicros as_of) const {
  const int k = KindIndex(kind);
  KindTotals totals;
  const std::int64_t last = BucketOf(as_of);
  std::int64_t first = std::numeric_limits<std::int64_t>::min();
  if (window) {
    first = BucketOf(as_of - *window) + 1;
  } else {
    totals.Merge(station.folded[k]);
  }
  for (auto it = station.buckets.lower_bound(first);
       it != station.buckets.end() && it->first <= last; ++it) {
    totals.Merge(it->second[k]);
  }
  return totals;
}

std::vector<FeatureRow> StreamingFeatures::Compute(TimestampMicros as_of) const {
  std::vector<FeatureRow> rows;
  for (const FeatureSpec& f : features_) {
    const std::vector<Kind> kinds =
        f.kind ? std::vector<Kind>{*f.kind} : std::vector<Kind>{Kind::kPickup, Kind::kDropoff};
    std::vector<std::pair<const std::string*, KindTotals>> per_station;
    for (const auto& [id, station] : stations_) {
      if (!station.known || station.first_ts > as_of) continue;
      KindTotals totals;
      for (Kind kind : kinds) totals.Merge(Totals(station, kind, f.window, as_of));
      per_station.emplace_back(&id, totals);
    }
    const AggregateInfo& aggregate = AggregateOf(f.aggregate);
    double kth = 0;
    if (aggregate.ranked && !per_station.empty()) {
      std::vector<double> values;
      values.reserve(per_station.size());
      for (auto& [id, t] : per_station) values.push_back(aggregate.from_totals(t));
      const std::size_t k = std::max<std::size_t>(1, TopShareRank(f.share, values.size()));
      std::nth_element(values.begin(), values.begin() + (k - 1), values.end(), std::greater<>());
      kth = values[k - 1];
    }
    for (auto& [id, t] : per_station) {
      if (!aggregate.every_station && t.count == 0) continue;  // No row over nothing.
      double value = aggregate.from_totals(t);
      if (aggregate.ranked) value = value > 0 && value >= kth ? 1.0 : 0.0;
      rows.push_back({*id, f.name, f.window_len, value, as_of});
    }
  }
  return rows;
}

void StreamingFeatures::Fold(TimestampMicros up_to) {
  const std::int64_t through = BucketOf(up_to);
  if (through <= folded_through_) return;
  for (auto& [id, station] : stations_) {
    auto end = station.buckets.upper_bound(through);
    for (auto it = station.buckets.begin(); it != end; ++it) {
      station.folded[0].Merge(it->second[0]);
      station.folded[1].Merge(it->second[1]);
    }
    station.buckets.erase(station.buckets.begin(), end);
  }
  folded_through_ = through;
}

std::vector<FeatureTick> StreamingFeatures::TakeDueTicks() {
  std::set<TimestampMicros> ticks = std::move(to_rewrite_);
  to_rewrite_.clear();
  std::optional<TimestampMicros> next;
  if (last_emitted_) {
    next = *last_emitted_ + every_;
  } else if (!stations_.empty()) {
    TimestampMicros earliest = std::numeric_limits<TimestampMicros>::max();
    for (const auto& [id, station] : stations_) earliest = std::min(earliest, station.first_ts);
    next = FloorDiv(earliest - 1, every_) * every_ + every_;  // The first tick at or after it.
  }
  for (; next && *next <= watermark_; *next += every_) {
    ticks.insert(*next);
    last_emitted_ = *next;
  }
  std::vector<FeatureTick> due;
  due.reserve(ticks.size());
  for (TimestampMicros tick : ticks) due.push_back({tick, Compute(tick)});
  if (watermark_ > std::numeric_limits<TimestampMicros>::min() + retention_)
    Fold(watermark_ - retention_);
  return due;
}

}  // namespace bikestream
