// A streaming job as a person runs it: the streaming runner on a source, steered the way
// Dataflow's jobs are — SIGTERM drains, Ctrl-C cancels, an admin endpoint (/healthz,
// /metrics, /job, POST /drain, POST /cancel), an entry in the job registry for `bikestream
// jobs` while it runs, and progress a few times a second.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "ingest/ingest_lines.h"
#include "job/job_control.h"
#include "job/streaming_runner.h"

namespace bikestream {

struct StreamingJobOptions {
  std::string admin = "127.0.0.1:0";  // Admin endpoint HOST:PORT; port 0 picks one. Default: that.
  std::string admin_token;            // Required by the admin endpoint when set. Default: none.
  std::string warehouse;              // Names the warehouse in the registry, password redacted.
  std::filesystem::path state_dir;    // The job registry's directory. Required.
  ProgressCallback progress;          // A few times a second and at the end. Default: none.
  // Called once the job runs, with a line that says how to reach and stop it. Default: none.
  std::function<void(const std::string&)> announce;
  // Streaming features, to report in /metrics. Default: none.
  std::function<void(JobMetrics&)> attach_metrics;
};

struct StreamingJobResult {
  JobState state = JobState::kRunning;  // DRAINED, CANCELLED or FAILED.
  absl::Status error;                   // Why it failed, when FAILED.
  IngestStats stats;
  double seconds = 0;
};

// Runs until drained, cancelled or failed. An error before the job runs (a busy admin
// address, an unwritable registry) is returned as the status.
absl::StatusOr<StreamingJobResult> RunStreamingJob(EventSource& source, EventSink& sink,
                                                   const StreamingOptions& options,
                                                   const StreamingJobOptions& job);

}  // namespace bikestream
