// The batch feature job (`bikestream features`): refresh station_features in the warehouse at
// one as_of, or at every tick of a schedule aligned to the clock, as Cloud Scheduler's
// `*/15 * * * *` ran the original notebook. On a schedule it is steered like a streaming job:
// SIGTERM or Ctrl-C stops it, and an optional admin endpoint's POST /run computes now.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "features/feature_spec.h"
#include "warehouse/event_history.h"
#include "warehouse/feature_store.h"

namespace bikestream {

struct FeatureJobOptions {
  std::vector<FeatureSpec> features = DefaultFeatures();  // Default: docs/design.md's.
  DurationMicros every = 15 * 60 * kMicrosPerSecond;      // The schedule's tick. Default: 15m.
  std::optional<std::string> admin;  // Admin endpoint HOST:PORT while scheduled. Default: none.
  std::string admin_token;           // Required by the admin endpoint when set. Default: none.
  Clock* clock = nullptr;            // Default: the system clock.
  // Lines for a person: each tick's rows and time, failures, where the admin endpoint is.
  std::function<void(const std::string&)> log;  // Default: none.
};

// The as_of `bikestream features` uses when none is given, and a line saying why.
struct DefaultTick {
  TimestampMicros as_of;
  std::string why;
};

// The schedule's current tick (now floored to `options.every`), as a live warehouse wants;
// but on a warehouse of past data, where no event falls in the longest window before that
// tick (so every windowed feature there would be zero), the data's latest tick: the first tick
// at or after the latest event. An empty raw_events keeps the current tick, and says so.
absl::StatusOr<DefaultTick> ChooseDefaultTick(EventHistory& events,
                                              const FeatureJobOptions& options);

// Why a training set at `as_of` has no rows: kNotFound naming the nearest stored ticks before
// and after it (within a day) and the latest, when `as_of` is no tick; OK when it is one (whose
// rows hold none of these features).
absl::Status ExplainEmptyTick(FeatureStore& store, const std::vector<std::string>& features,
                              TimestampMicros as_of);

// Refreshes the features at `as_of` and logs how many rows it wrote in how long.
absl::Status RefreshFeaturesAt(FeatureStore& store, const FeatureJobOptions& options,
                               TimestampMicros as_of);

// Refreshes every tick of `options.every` in [from, to], in order, after a line saying how many;
// stops at the first failure.
absl::Status BackfillFeatures(FeatureStore& store, const FeatureJobOptions& options,
                              TimestampMicros from, TimestampMicros to);

// `features verify`: the stored rows of `options.features` at `as_of` against the same
// features computed afresh from raw_events; values agree within a relative 1e-9.
struct FeatureDifference {
  std::string station_id;
  std::string feature_name;
  std::string window_len;
  std::string
      what;  // e.g. "missing (expected 3)", "stored 2, expected 3", "stored 1, expected no row".
};
struct FeatureVerification {
  std::size_t expected = 0;  // Rows computed afresh.
  std::size_t stored = 0;    // Rows stored of these features.
  std::vector<FeatureDifference> differences;
};
absl::StatusOr<FeatureVerification> VerifyFeatures(FeatureStore& store,
                                                   const std::vector<FeatureSpec>& features,
                                                   TimestampMicros as_of);

// Refreshes the current tick at once, then each tick as it comes (a failed tick is retried
// with backoff while later ones queue), until SIGTERM or SIGINT. Returns an error only when it
// cannot start (a busy admin address).
absl::Status RunFeatureSchedule(FeatureStore& store, const FeatureJobOptions& options);

}  // namespace bikestream
