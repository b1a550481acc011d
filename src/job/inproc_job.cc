#include "job/inproc_job.h"

#include <limits>
#include <thread>

#include "job/metrics_reporter.h"
#include "job/streaming_runner.h"
#include "simulator/pacer.h"
#include "source/inproc_source.h"

namespace bikestream {
namespace {

constexpr std::size_t kReceiveBatch = 4096;
// A slow stream still commits promptly: staged messages wait at most this long.
constexpr DurationMicros kMaxCommitDelay = 200 * kMicrosPerMilli;

}  // namespace

absl::StatusOr<InprocJobResult> RunInprocJob(Simulator& simulator, EventSink& sink,
                                             const InprocJobOptions& options,
                                             const std::atomic<bool>& stop,
                                             const ProgressCallback& progress) {
  InprocSource source(options.source, options.queue_capacity);
  const Pacer pacer;
  std::atomic<bool> runner_done = false;  // A failed runner stops the producer too.
  std::jthread producer([&] {
    for (std::uint64_t sequence = 1;; ++sequence) {
      if (stop) break;
      if (options.count && sequence > *options.count) break;
      if (options.duration_seconds && pacer.ElapsedSeconds() >= *options.duration_seconds) break;
      SimulatedMessage message = simulator.Next();
      pacer.WaitUntil(message.due_seconds, [&] { return stop.load() || runner_done.load(); });
      if (!source.Publish(std::move(message.payload))) break;
    }
    source.Finish();
  });

  JobControl control;
  JobMetrics metrics;
  absl::Status status;
  {
    MetricsReporter reporter(metrics, progress);
    status = RunStreaming(
        source, sink,
        StreamingOptions{.receivers = 1,
                         .max_messages_per_receive = kReceiveBatch,
                         // Room for a whole batch, so batches fill.
                         .max_outstanding_messages = options.batch_size + options.queue_capacity,
                         .max_outstanding_bytes = std::numeric_limits<std::size_t>::max(),
                         .batch_size = options.batch_size,
                         .max_commit_delay = kMaxCommitDelay,
                         .fail_on_commit_error = true,
                         .observer = options.observer},
        control, metrics);
    runner_done = true;
  }
  producer.join();
  if (!status.ok()) return status;
  return InprocJobResult{Snapshot(metrics), simulator.stats(), pacer.ElapsedSeconds()};
}

}  // namespace bikestream
