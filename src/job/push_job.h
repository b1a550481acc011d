// `bikestream ingest --push-listen`: the streaming job for Pub/Sub push subscriptions.
//
// An HTTP endpoint takes push requests (the JSON envelope with base64 data). Requests that
// arrive together are grouped into one commit, and each is answered 2xx only once its event
// (or its dead-letter row) is durably committed; a failed commit answers 503, so Pub/Sub
// redelivers later. With a token, requests without `?token=<it>` get 401. Bodies over the
// limit get 413, slow requests time out. Drain stops accepting, commits and answers what
// came in; cancel answers 503 to what is not committed.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "ingest/ingestor.h"
#include "job/job_control.h"
#include "warehouse/roles.h"

namespace bikestream {

struct PushJobOptions {
  std::string listen;                          // HOST:PORT; port 0 picks one. Required.
  std::string token;                           // Required ?token= value; empty: none. Default: empty.
  std::size_t max_body_bytes = 16 << 20;       // Larger requests get 413. Default: 16 MiB.
  std::chrono::seconds request_timeout{30};    // Read/write limit per request. Default: 30 s.
  std::size_t max_batch = 10'000;              // Messages per group commit. Default: 10,000.
  // Called once with HOST:PORT when the endpoint listens. Default: none.
  std::function<void(const std::string&)> on_listening;
  std::function<void(const std::string&)> log;  // Commit failures. Default: none.
  CommitObserver* observer = nullptr;  // Told of each commit, e.g. streaming features.
};

// Runs until drained or cancelled. `sink` must outlive the call.
absl::Status RunPushJob(EventSink& sink, const PushJobOptions& options, JobControl& control,
                        JobMetrics& metrics);

}  // namespace bikestream
