// `--features streaming`: keeps streaming features up to date inside an ingest job.
//
// On start it resumes after the latest as_of stored and rebuilds its state from the warehouse
// (all-time totals up to the retained horizon, the events after it), so a restart never
// counts an event twice: only events new to the warehouse are added afterwards. After each
// commit it writes the ticks that came due or were changed by late events; a write that fails
// is logged and retried after the next commit. When the source is idle and its event time is
// live (within a day of the clock), the clock moves the watermark, so every known station
// gets its rows at every tick.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "features/streaming_features.h"
#include "ingest/ingestor.h"
#include "job/job_control.h"
#include "warehouse/event_history.h"
#include "warehouse/feature_store.h"

namespace bikestream {

struct StreamingFeatureOptions {
  std::vector<FeatureSpec> features = DefaultFeatures();         // Default: docs/design.md's.
  DurationMicros every = 15 * 60 * kMicrosPerSecond;             // Tick interval. Default: 15m.
  DurationMicros allowed_lateness = 10 * 60 * kMicrosPerSecond;  // Default: 10m.
  Clock* clock = nullptr;                                        // Default: the system clock.
  std::function<void(const std::string&)> log;                   // Default: none.
};

class StreamingFeatureSink final : public CommitObserver {
 public:
  // Rebuilds the state from `history` and the ticks stored in `store`, where it then writes;
  // both must outlive the sink.
  static absl::StatusOr<std::unique_ptr<StreamingFeatureSink>> Create(
      FeatureStore& store, EventHistory& history, StreamingFeatureOptions options);

  void OnCommit(const std::vector<Event>& events, const std::vector<bool>& newly_stored) override;
  void OnIdle() override;

  // Keeps `metrics` (feature_ticks_written, features_too_late) current from now on; it must
  // outlive the sink's use.
  void AttachMetrics(JobMetrics* metrics) { metrics_ = metrics; }

  std::uint64_t ticks_written() const { return ticks_written_; }
  std::uint64_t too_late() const { return engine_.too_late(); }

 private:
  StreamingFeatureSink(FeatureStore& store, EventHistory& history, StreamingFeatureOptions options,
                       StreamingFeatures engine)
      : store_(store),
        history_(history),
        options_(std::move(options)),
        engine_(std::move(engine)) {}
  absl::Status Rebuild();
  void WriteDue();

  FeatureStore& store_;
  EventHistory& history_;
  StreamingFeatureOptions options_;
  StreamingFeatures engine_;
  std::vector<std::string> names_;
  std::vector<FeatureTick> unwritten_;
  std::uint64_t ticks_written_ = 0;
  JobMetrics* metrics_ = nullptr;
};

}  // namespace bikestream
