#include "job/feature_job.h"

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <thread>

#include "features/scheduler.h"
#include "job/admin_server.h"
#include "job/signals.h"

namespace bikestream {
namespace {

// How often the schedule looks at the job's state.
constexpr TimestampMicros kStatePoll = 50 * kMicrosPerMilli;

void Log(const FeatureJobOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

}  // namespace

absl::Status RefreshFeaturesAt(FeatureStore& store, const FeatureJobOptions& options, TimestampMicros as_of) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  const TimestampMicros start = clock.Now();
  auto rows = store.RefreshFeatures(options.features, as_of);
  if (!rows.ok()) return rows.status();
  Log(options, fmt::format("features at {}: {} rows in {:.2f} s", FormatRfc3339(as_of), *rows,
                           double(clock.Now() - start) / kMicrosPerSecond));
  return absl::OkStatus();
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
    Log(options, fmt::format("admin http://{} (POST /run with X-Bikestream-Admin: 1 computes now)", admin->address()));
  }
  Log(options, fmt::format("computing features every {} s, aligned to the clock; SIGTERM or Ctrl-C stops",
                           options.every / kMicrosPerSecond));
  // Any state change (drain or cancel, from a signal or the admin endpoint) stops the schedule.
  std::jthread watcher([&](std::stop_token token) {
    while (!token.stop_requested() && control.running()) {
      clock.SleepFor(kStatePoll, [&] { return token.stop_requested(); });
    }
    stop = true;
  });
  Scheduler scheduler(clock, {.every = options.every},
                      [&](TimestampMicros as_of) { return RefreshFeaturesAt(store, options, as_of); },
                      [&](const std::string& line) { Log(options, line); });
  scheduler.Run(stop, run_now);
  watcher.request_stop();
  Log(options, "scheduler stopped");
  return absl::OkStatus();
}

}  // namespace bikestream
