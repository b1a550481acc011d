// `bikestream ingest --from pubsub`: the streaming job from a Pub/Sub subscription.
//
// Several pulls in flight feed one committer through a bounded queue. Flow control caps the
// messages and bytes received and not yet acknowledged, so memory stays bounded whatever the
// backlog. Messages are acknowledged only after the commit that stores them (or their
// dead-letter rows) returned; their leases are extended while they wait. When a commit fails,
// the batch is handed back (nack) with a growing delay and pulling pauses as long: the job
// keeps running and nothing is lost. State changes come through `control` (see job_control.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "ingest/ingestor.h"
#include "job/job_control.h"
#include "pubsub/pubsub.h"
#include "warehouse/roles.h"

namespace bikestream {

struct PubsubJobOptions {
  std::string project;
  std::string subscription;
  int pullers = 2;                              // Pulls in flight. Default: 2.
  int max_messages_per_pull = 1000;             // Default: 1000.
  std::size_t max_outstanding_messages = 20'000;        // Flow control. Default: 20,000.
  std::size_t max_outstanding_bytes = 64 * 1024 * 1024;  // Flow control. Default: 64 MiB.
  std::size_t batch_size = 10'000;              // Messages per commit. Default: 10,000.
  std::chrono::milliseconds max_commit_delay{200};  // A partial batch waits at most this.
  int ack_deadline_seconds = 60;                // Leases are renewed to this. Default: 60.
  std::chrono::milliseconds idle_pull_delay{100};    // After an empty pull. Default: 100 ms.
  std::chrono::milliseconds max_nack_delay{60'000};  // Cap of the nack backoff. Default: 60 s.
  CommitObserver* observer = nullptr;  // Told of each commit, e.g. streaming features.
  // Called with a line for the log (commit failures, retries). Default: none.
  std::function<void(const std::string&)> log;
};

// Runs until drained, cancelled or failed; returns the error that failed it, else OK. The final
// state is in `control`. `connection` and `sink` must outlive the call.
absl::Status RunPubsubJob(pubsub::PubsubConnection& connection, EventSink& sink,
                          const PubsubJobOptions& options, JobControl& control,
                          JobMetrics& metrics);

}  // namespace bikestream
