#include "job/streaming_feature_sink.h"

#include <fmt/format.h>

#include "common/status.h"
#include "features/scheduler.h"

namespace bikestream {
namespace {
// The clock moves an idle job's watermark only while its event time is this close to now, so
// a replay of old data never fills the years between it and today with ticks.
constexpr DurationMicros kLiveHorizon = 24 * 3600 * kMicrosPerSecond;
}  // namespace

absl::StatusOr<std::unique_ptr<StreamingFeatureSink>> StreamingFeatureSink::Create(
    FeatureStore& store, EventHistory& history, StreamingFeatureOptions options) {
  if (!options.clock) options.clock = &SystemClock();
  auto engine =
      StreamingFeatures::Create(options.features, options.every, options.allowed_lateness);
  if (!engine.ok()) return engine.status();
  std::unique_ptr<StreamingFeatureSink> sink(
      new StreamingFeatureSink(store, history, std::move(options), std::move(*engine)));
  sink->names_ = FeatureNames(sink->options_.features);
  if (auto status = sink->Rebuild(); !status.ok()) return status;
  return sink;
}

absl::Status StreamingFeatureSink::Rebuild() {
  auto latest = store_.LatestFeatureTime();
  if (!latest.ok()) return latest.status();
  if (!*latest) {
    // A first start over events already stored: ticks start at the latest of them (a batch
    // backfill covers the past); an empty warehouse needs no rebuild.
    auto last_event = history_.LatestEventTime();
    if (!last_event.ok()) return last_event.status();
    if (!*last_event) return absl::OkStatus();
    *latest = FloorToTick(**last_event, options_.every) - options_.every;
  }
  // All-time totals up to the horizon the state keeps, then every event after it.
  const TimestampMicros horizon = **latest - engine_.retention();
  auto totals = history_.EventTotals(horizon);
  if (!totals.ok()) return totals.status();
  for (const StationTotals& station : *totals) engine_.AddHistory(station);
  absl::Status scanned = history_.ScanEvents(horizon, [&](const Event& e) { engine_.Add(e); });
  if (!scanned.ok()) return scanned;
  engine_.ResumeAfter(**latest);
  return absl::OkStatus();
}

void StreamingFeatureSink::OnCommit(const std::vector<Event>& events,
                                    const std::vector<bool>& newly_stored) {
  for (std::size_t i = 0; i < events.size() && i < newly_stored.size(); ++i) {
    if (newly_stored[i]) engine_.Add(events[i]);
  }
  WriteDue();
}

void StreamingFeatureSink::OnIdle() {
  // Before its first event the job knows no event time to call live: the clock could only
  // make every event of a replay too late.
  if (!engine_.has_watermark()) return;
  const TimestampMicros now = options_.clock->Now();
  if (now - engine_.watermark() <= kLiveHorizon) engine_.AdvanceWatermark(now);
  WriteDue();
}

void StreamingFeatureSink::WriteDue() {
  for (FeatureTick& tick : engine_.TakeDueTicks()) unwritten_.push_back(std::move(tick));
  if (metrics_) metrics_->features_too_late = engine_.too_late();
  if (unwritten_.empty()) return;
  // All due ticks in one transaction: one sync, however many ticks a batch of events closed.
  if (absl::Status status = store_.WriteFeatureTicks(names_, unwritten_); !status.ok()) {
    if (options_.log) {
      options_.log(
          fmt::format("writing features for {} ticks failed, retrying after the next commit: {}",
                      unwritten_.size(), MessageOf(status)));
    }
    return;
  }
  ticks_written_ += unwritten_.size();
  unwritten_.clear();
  if (metrics_) metrics_->feature_ticks_written = ticks_written_;
}

}  // namespace bikestream
