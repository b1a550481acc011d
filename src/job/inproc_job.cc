#include "job/inproc_job.h"

#include <fmt/format.h>

#include <thread>

#include "broker/inproc_queue.h"
#include "simulator/pacer.h"

namespace bikestream {
namespace {

struct QueuedMessage {
  std::string payload;
  std::uint64_t sequence;
};

constexpr std::size_t kPopBatch = 4096;
// A slow stream still commits promptly: staged messages wait at most this long.
constexpr auto kMaxCommitDelay = std::chrono::milliseconds(200);

}  // namespace

absl::StatusOr<InprocJobResult> RunInprocJob(Simulator& simulator, EventSink& sink,
                                             const InprocJobOptions& options,
                                             const std::atomic<bool>& stop,
                                             const ProgressCallback& progress) {
  InprocQueue<QueuedMessage> queue(options.queue_capacity);
  std::atomic<bool> stop_producing = false;
  const Pacer pacer;

  auto should_stop = [&] { return stop || stop_producing; };
  std::jthread producer([&] {
    for (std::uint64_t sequence = 1;; ++sequence) {
      if (should_stop()) break;
      if (options.count && sequence > *options.count) break;
      if (options.duration_seconds && pacer.ElapsedSeconds() >= *options.duration_seconds) break;
      SimulatedMessage message = simulator.Next();
      pacer.WaitUntil(message.due_seconds, should_stop);
      if (!queue.Push(QueuedMessage{std::move(message.payload), sequence})) break;
    }
    queue.Close();
  });

  Ingestor ingestor(sink, IngestOptions{.source = options.source, .batch_size = options.batch_size,
                                                  .observer = options.observer});
  std::vector<QueuedMessage> popped;
  std::uint64_t commits_reported = 0;
  auto last_commit = std::chrono::steady_clock::now();
  absl::Status status;
  while (status.ok() && queue.PopBatch(popped, kPopBatch, kMaxCommitDelay)) {
    for (const QueuedMessage& message : popped) {
      status = ingestor.Add(IngestMessage{.payload = message.payload, .position = message.sequence});
      if (!status.ok()) break;
    }
    if (status.ok() && ingestor.pending() > 0 &&
        std::chrono::steady_clock::now() - last_commit >= kMaxCommitDelay) {
      status = ingestor.Flush();
    }
    if (ingestor.pending() == 0) last_commit = std::chrono::steady_clock::now();
    if (status.ok() && popped.empty()) ingestor.NotifyIdle();
    if (progress && ingestor.stats().commits != commits_reported) {
      commits_reported = ingestor.stats().commits;
      progress(ingestor.stats());
    }
  }
  if (status.ok()) status = ingestor.Flush();
  if (!status.ok()) {
    stop_producing = true;
    queue.Close();
  }
  producer.join();
  if (!status.ok()) return status;
  if (progress) progress(ingestor.stats());
  return InprocJobResult{ingestor.stats(), simulator.stats(), pacer.ElapsedSeconds()};
}

}  // namespace bikestream
