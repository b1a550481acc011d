#include "job/feature_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <tuple>

#include "features/scheduler.h"
#include "job/admin_server.h"
#include "job/signals.h"

namespace bikestream {
namespace {

// How often the schedule looks at the job's state.
constexpr DurationMicros kStatePoll = 50 * kMicrosPerMilli;

void Log(const FeatureJobOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

// The feature with the longest finite window; null when all are all_time.
const FeatureSpec* LongestWindowed(const std::vector<FeatureSpec>& features) {
  const FeatureSpec* longest = nullptr;
  for (const FeatureSpec& feature : features) {
    if (feature.window && (!longest || *feature.window > *longest->window)) longest = &feature;
  }
  return longest;
}

// RefreshFeaturesAt, counted in `metrics` when given.
absl::Status RefreshAndCount(FeatureStore& store, const FeatureJobOptions& options,
                             TimestampMicros as_of, JobMetrics* metrics) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  const TimestampMicros start = clock.Now();
  auto rows = store.RefreshFeatures(options.features, as_of);
  if (!rows.ok()) {
    if (metrics) ++metrics->scheduled_tick_failures;
    return rows.status();
  }
  const TimestampMicros end = clock.Now();
  if (metrics) {
    ++metrics->scheduled_ticks;
    metrics->scheduled_rows += *rows;
    metrics->scheduled_lag_seconds = double(end - as_of) / kMicrosPerSecond;
  }
  Log(options, fmt::format("features at {}: {} rows in {:.2f} s", FormatRfc3339(as_of), *rows,
                           double(end - start) / kMicrosPerSecond));
  return absl::OkStatus();
}

// A stored row's identity, for verify.
using FeatureKey = std::tuple<std::string, std::string, std::string>;
constexpr double kValueTolerance = 1e-9;

std::map<FeatureKey, double> ByKey(const std::vector<FeatureRow>& rows) {
  std::map<FeatureKey, double> by_key;
  for (const FeatureRow& row : rows)
    by_key[{row.station_id, row.feature_name, row.window_len}] = row.value;
  return by_key;
}

}  // namespace

absl::StatusOr<DefaultTick> ChooseDefaultTick(EventHistory& events,
                                              const FeatureJobOptions& options) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  const TimestampMicros current = FloorToTick(clock.Now(), options.every);
  auto latest = events.LatestEventTime();
  if (!latest.ok()) return latest.status();
  if (!*latest) {
    return DefaultTick{
        current, fmt::format("raw_events holds no events yet: the features as of now ({}) are "
                             "empty or zero",
                             FormatRfc3339(current))};
  }
  const FeatureSpec* longest = LongestWindowed(options.features);
  if (!longest || **latest > current - *longest->window) {
    return DefaultTick{current, fmt::format("as of now: {} (give --as-of for another tick)",
                                            FormatRfc3339(current))};
  }
  const TimestampMicros floor = FloorToTick(**latest, options.every);
  const TimestampMicros data_tick = floor == **latest ? floor : floor + options.every;
  return DefaultTick{
      data_tick, fmt::format("no event in the {} before now ({}); the latest is {}: as of the "
                             "data's latest tick, {} (give --as-of for another)",
                             longest->window_len, FormatRfc3339(current), FormatRfc3339(**latest),
                             FormatRfc3339(data_tick))};
}

absl::Status ExplainEmptyTick(FeatureStore& store, const std::vector<std::string>& features,
                              TimestampMicros as_of) {
  constexpr DurationMicros kNear = 24 * kMicrosPerHour;
  auto latest = store.LatestFeatureTime();
  if (!latest.ok()) return latest.status();
  if (!*latest)
    return absl::NotFoundError("station_features is empty: run `bikestream features` first");
  auto near = store.TrainingSet(
      TrainingSetRequest{.features = features, .range = std::pair(as_of - kNear, as_of + kNear)});
  if (!near.ok()) return near.status();
  std::optional<TimestampMicros> before, after;
  for (const auto& row : near->rows) {
    auto tick = ParseRfc3339(row.at(1).text);  // station_id, as_of, ...
    if (!tick.ok()) continue;
    if (*tick == as_of) return absl::OkStatus();
    if (*tick < as_of && (!before || *tick > *before)) before = *tick;
    if (*tick > as_of && (!after || *tick < *after)) after = *tick;
  }
  const auto or_none = [](const std::optional<TimestampMicros>& tick) {
    return tick ? FormatRfc3339(*tick) : std::string("none within a day");
  };
  return absl::NotFoundError(fmt::format(
      "no features as of {}: it is no tick. The nearest before: {}; after: {}; the latest: {}",
      FormatRfc3339(as_of), or_none(before), or_none(after), FormatRfc3339(**latest)));
}

absl::Status RefreshFeaturesAt(FeatureStore& store, const FeatureJobOptions& options,
                               TimestampMicros as_of) {
  return RefreshAndCount(store, options, as_of, nullptr);
}

absl::Status BackfillFeatures(FeatureStore& store, const FeatureJobOptions& options,
                              TimestampMicros from, TimestampMicros to) {
  const std::vector<TimestampMicros> ticks = TicksBetween(from, to, options.every);
  Log(options, fmt::format("backfilling {} ticks every {} s", ticks.size(),
                           options.every / kMicrosPerSecond));
  for (TimestampMicros tick : ticks) {
    if (absl::Status status = RefreshFeaturesAt(store, options, tick); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<FeatureVerification> VerifyFeatures(FeatureStore& store,
                                                   const std::vector<FeatureSpec>& features,
                                                   TimestampMicros as_of) {
  auto expected = store.ComputeFeatures(features, as_of);
  if (!expected.ok()) return expected.status();
  auto stored = store.StoredFeatures(as_of);
  if (!stored.ok()) return stored.status();
  std::set<std::string> names;
  for (const FeatureSpec& feature : features) names.insert(feature.name);
  std::erase_if(*stored, [&](const FeatureRow& row) { return !names.contains(row.feature_name); });
  const std::map<FeatureKey, double> want = ByKey(*expected), have = ByKey(*stored);
  FeatureVerification verification{.expected = want.size(), .stored = have.size()};
  auto differ = [&](const FeatureKey& key, std::string what) {
    verification.differences.push_back(
        {std::get<0>(key), std::get<1>(key), std::get<2>(key), std::move(what)});
  };
  for (const auto& [key, value] : want) {
    auto found = have.find(key);
    if (found == have.end()) {
      differ(key, fmt::format("missing (expected {})", value));
    } else if (std::abs(found->second - value) > kValueTolerance * std::max(1.0, std::abs(value))) {
      differ(key, fmt::format("stored {}, expected {}", found->second, value));
    }
  }
  for (const auto& [key, value] : have) {
    if (!want.contains(key)) differ(key, fmt::format("stored {}, expected no row", value));
  }
  return verification;
}

absl::Status RunFeatureSchedule(FeatureStore& store, const FeatureJobOptions& options) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  JobControl control;
  JobMetrics metrics;
  InstallJobSignalHandlers(&control);
  std::atomic<bool> stop = false, run_now = false;
  std::unique_ptr<AdminServer> admin;
  if (options.admin) {
    auto started = AdminServer::Start(
        {.address = *options.admin, .token = options.admin_token}, control, metrics,
        [&] {
          return fmt::format("{{\"state\":\"{}\",\"every_s\":{}}}\n", JobStateName(control.state()),
                             options.every / kMicrosPerSecond);
        },
        [&] { run_now = true; });
    if (!started.ok()) return started.status();
    admin = std::move(*started);
    Log(options, fmt::format("admin http://{} (POST /run with X-Bikestream-Admin: 1 computes now)",
                             admin->address()));
  }
  Log(options,
      fmt::format("computing features every {} s, aligned to the clock; SIGTERM or Ctrl-C stops",
                  options.every / kMicrosPerSecond));
  // Any state change (drain or cancel, from a signal or the admin endpoint) stops the schedule.
  std::jthread watcher([&](std::stop_token token) {
    while (!token.stop_requested() && control.running()) {
      clock.SleepFor(kStatePoll, [&] { return token.stop_requested(); });
    }
    stop = true;
  });
  Scheduler scheduler(
      clock, {.every = options.every},
      [&](TimestampMicros as_of) { return RefreshAndCount(store, options, as_of, &metrics); },
      [&](const std::string& line) { Log(options, line); });
  scheduler.Run(stop, run_now);
  watcher.request_stop();
  Log(options, "scheduler stopped");
  return absl::OkStatus();
}

}  // namespace bikestream
