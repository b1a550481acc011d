// The streaming jobs on this machine as the console shows them. A thread asks the job registry
// for the running jobs and each one's admin endpoint for GET /job every `interval`, and keeps
// `history` of samples per job, so that the page can draw the rates and the publish-to-commit
// latency of the last minutes as soon as it opens. A job that ended stays, with the state it
// ended in (the registry keeps it a day). Drain and cancel go to the job's admin endpoint, as
// `bikestream jobs drain|cancel` sends them. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "console/console_api.h"
#include "job/job_registry.h"

namespace bikestream {

struct JobWatcherOptions {
  std::filesystem::path state_dir;  // The registry's. Required.
  std::string admin_token;          // The jobs' --admin-token, when they have one.
  // The console's warehouse as jobs record theirs (the CLI's WarehouseUrlOfStore): its jobs
  // are told apart from those of other warehouses. Default: none is.
  std::string warehouse;
  DurationMicros interval = 2 * kMicrosPerSecond;  // Default: 2 s.
  DurationMicros history = 10 * kMicrosPerMinute;  // Samples kept per job. Default: 10 min.
  Clock* clock = nullptr;                          // Default: the system clock.
};

// One look at a job's counters.
struct JobSample {
  TimestampMicros at = 0;
  std::uint64_t received = 0;
  std::uint64_t stored = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t in_flight = 0;
  std::vector<std::uint64_t> latency_counts;  // Per bucket of kLatencyBuckets, then +Inf.
};

// The `q` quantile (0..1) of a histogram of `counts` per bucket (kLatencyBuckets' upper
// bounds, then +Inf), interpolated within its bucket as Prometheus' histogram_quantile does;
// nullopt for an empty one.
std::optional<double> LatencyQuantile(const std::vector<std::uint64_t>& counts, double q);

// The latency of the messages committed between the first and the last of `samples` (the
// histogram's growth); when none were, of every message since the job started (`since_start`).
struct WindowLatency {
  std::optional<double> p50;  // Seconds; none without messages.
  std::optional<double> p99;
  std::uint64_t messages = 0;
  bool since_start = false;
};
WindowLatency LatencyOver(const std::deque<JobSample>& samples);

class JobWatcher {
 public:
  explicit JobWatcher(JobWatcherOptions options);
  ~JobWatcher();
  JobWatcher(const JobWatcher&) = delete;
  JobWatcher& operator=(const JobWatcher&) = delete;

  // Samples every `interval` on a thread of its own until destroyed.
  void Start();
  // Samples every job once, now.
  void Sample();

  // GET /api/jobs: each job with its state, counts, rates per second between samples and the
  // latency over the samples kept.
  ApiReply Jobs();
  // POST /api/jobs/drain or /api/jobs/cancel: `action` is "drain" or "cancel".
  ApiReply Act(std::string_view id, std::string_view action);

 private:
  struct Watched {
    JobRecord record;
    std::string state;    // As the job said, or as it ended.
    std::string problem;  // Why its endpoint did not answer; empty when it did.
    std::deque<JobSample> samples;
  };

  JobWatcherOptions options_;
  Clock& clock_;
  absl::Mutex sample_mutex_;  // Held through a whole Sample().
  absl::Mutex mutex_;
  std::map<std::string, Watched> jobs_ ABSL_GUARDED_BY(mutex_);
  std::jthread thread_;
};

}  // namespace bikestream
