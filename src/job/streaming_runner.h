// The streaming runner: the one loop every streaming job runs, whatever its source (Pub/Sub
// pull or push, the in-process broker, MQTT).
//
// Receiver threads take messages from the source into a bounded queue; the calling thread
// validates and commits them in batches through an Ingestor (or hands each batch to a
// concurrent writer), and acknowledges each message only after the commit that stores its row
// (or its dead-letter row). Flow control caps the
// messages and bytes received and not yet acknowledged, so memory stays bounded whatever the
// backlog. Leases are extended while messages wait. A failed commit hands its batch back with
// a growing delay and pauses receiving as long: the job keeps running and nothing is lost.
// State changes come through `control` (job_control.h): drain stops the source taking new
// messages in and commits everything taken in; cancel hands back what is not committed. Time
// and waiting go through the clock of the options.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "ingest/ingestor.h"
#include "job/job_control.h"
#include "source/event_source.h"
#include "warehouse/event_sink.h"

namespace bikestream {

struct StreamingOptions {
  int receivers = 2;                              // Receive calls in flight. Default: 2.
  std::size_t max_messages_per_receive = 1000;    // Default: 1000.
  std::size_t max_outstanding_messages = 20'000;  // Flow control. Default: 20,000.
  std::size_t max_outstanding_bytes = 64 << 20;   // Flow control. Default: 64 MiB.
  std::size_t batch_size = 10'000;                // Messages per commit. Default: 10,000.
  // A partial batch waits at most this for more; 0 commits whatever came in while the last
  // commit ran (group commit). Default: 200 ms.
  DurationMicros max_commit_delay = 200 * kMicrosPerMilli;
  // Leases are renewed to this, every third of it, while messages wait; 0 for a source
  // without leases. Default: 0.
  DurationMicros lease = 0;
  DurationMicros receive_retry_delay =
      100 * kMicrosPerMilli;  // After a failed Receive. Default: 100 ms.
  DurationMicros max_nack_delay =
      60 * kMicrosPerSecond;  // Cap of the hand-back backoff. Default: 60 s.
  // A failed commit fails the job (for a source that cannot redeliver) instead of being
  // handed back. Default: false.
  bool fail_on_commit_error = false;
  CommitObserver* observer =
      nullptr;  // Told of each commit, e.g. streaming features. Default: none.
  // Connections to the same warehouse that commit a full batch each, on a thread of its own,
  // while the next batch stages (EventSink::ConcurrentWriters says how many help): each
  // batch's messages are acknowledged after its own commit, the observer hears of the batches
  // in the order they staged, and a drain or cancel waits for every commit in flight. Only a
  // full batch commits beside others: one cut by max_commit_delay waits until none is in
  // flight, so that a sparse stream commits as with one writer. Flow
  // control bounds them all together: to keep each writer busy it should admit a batch per
  // writer and one more. Default: none (the committer commits each batch itself, and stages
  // nothing meanwhile).
  std::vector<EventSink*> concurrent_writers;
  Clock* clock = nullptr;  // Default: the system clock.
  // Called with a line for the log (commit failures, retries). Default: none.
  std::function<void(const std::string&)> log;
};

// Runs until the source is exhausted, or the job is drained, cancelled or failed; returns the
// error that failed it, else OK. The final state is in `control` (DRAINED once the source is
// exhausted). `source` and `sink` must outlive the call.
absl::Status RunStreaming(EventSource& source, EventSink& sink, const StreamingOptions& options,
                          JobControl& control, JobMetrics& metrics);

}  // namespace bikestream
