#include "job/streaming_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <limits>
#include <thread>
#include <unordered_set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/bounded_queue.h"
#include "common/mutex.h"
#include "common/status.h"
#include "ingest/concurrent_commits.h"

namespace bikestream {
namespace {

constexpr DurationMicros kInitialNackDelay = kMicrosPerSecond;
// How often waiting threads look at the state and the clock.
constexpr absl::Duration kPoll = absl::Milliseconds(20);
constexpr auto kQueuePoll = std::chrono::milliseconds(20);
constexpr std::size_t kPopBatch = 4096;

// A message staged for the next commit: what its acknowledgement needs.
struct Staged {
  std::string ack_id;
  std::size_t bytes;
  TimestampMicros publish_time;
};

std::vector<std::string> AckIdsOf(const std::vector<Staged>& staged) {
  std::vector<std::string> ids;
  ids.reserve(staged.size());
  for (const Staged& s : staged) ids.push_back(s.ack_id);
  return ids;
}

class StreamingRunner {
 public:
  StreamingRunner(EventSource& source, EventSink& sink, const StreamingOptions& options,
                  JobControl& control, JobMetrics& metrics)
      : source_(source),
        options_(options),
        clock_(options.clock ? *options.clock : SystemClock()),
        control_(control),
        metrics_(metrics),
        // Room for what flow control admits plus the receives under way, so a receiver never
        // blocks on the queue while the job runs.
        queue_(options.max_outstanding_messages +
               std::size_t(std::max(1, options.receivers)) * options.max_messages_per_receive),
        ingestor_(sink, IngestOptions{.source = source.Name(),
                                      .batch_size = std::numeric_limits<std::size_t>::max(),
                                      .now = [this] { return clock_.Now(); },
                                      .observer = options.observer}),
        commits_(options.concurrent_writers) {}

  absl::Status Run() {
    std::vector<std::jthread> receivers;
    for (int i = 0; i < std::max(1, options_.receivers); ++i)
      receivers.emplace_back([this] { ReceiveLoop(); });
    std::jthread lease_extender;
    if (options_.lease > 0)
      lease_extender = std::jthread([this](const std::stop_token& stop) { ExtendLeases(stop); });
    std::jthread closer([this, &receivers] {
      for (auto& receiver : receivers) receiver.join();
      queue_.Close();
    });
    CommitLoop();
    source_.StopReceiving();
    queue_.Close();  // On cancel or failure, unblocks receivers still handing over messages.
    closer.join();
    if (lease_extender.joinable()) {
      lease_extender.request_stop();
      lease_extender.join();
    }
    if (Cancelled() || failed_) HandBackEverything();
    source_.Close();
    if (failed_) {
      control_.Finish(JobState::kFailed);
      MutexLock lock(&mutex_);
      return fatal_;
    }
    if (!Cancelled()) control_.Finish(JobState::kDrained);
    return absl::OkStatus();
  }

 private:
  bool Cancelled() const { return control_.state() == JobState::kCancelled; }
  bool Stopping() const { return Cancelled() || failed_; }

  void Fail(absl::Status status) {
    MutexLock lock(&mutex_);
    if (fatal_.ok()) fatal_ = std::move(status);
    failed_ = true;
  }

  void Log(const std::string& line) {
    if (options_.log) options_.log(line);
  }

  // Waits for flow-control room, or a stop; returns how many messages the next receive may
  // take, 0 on stop.
  std::size_t Reserve() {
    while (!Stopping()) {
      NoteDrain();
      MutexLock lock(&mutex_);
      const std::size_t held = outstanding_messages_ + reserved_;
      if (clock_.Now() >= pause_until_ && held < options_.max_outstanding_messages &&
          outstanding_bytes_ < options_.max_outstanding_bytes) {
        const std::size_t room =
            std::min(options_.max_messages_per_receive, options_.max_outstanding_messages - held);
        reserved_ += room;
        return room;
      }
      WaitWithTimeout(room_, &mutex_, kPoll);
    }
    return 0;
  }

  // On a drain, tells the source once to take nothing new in; what it took in still comes.
  void NoteDrain() {
    if (!control_.running() && !told_to_stop_.exchange(true)) source_.StopReceiving();
  }

  // Turns a reservation into the messages received.
  void Admit(std::size_t reserved, const std::vector<SourceMessage>& messages) {
    MutexLock lock(&mutex_);
    reserved_ -= reserved;
    for (const SourceMessage& m : messages) {
      if (options_.lease > 0) leased_.insert(m.ack_id);
      outstanding_bytes_ += m.payload.size();
    }
    outstanding_messages_ += messages.size();
  }

  void ReceiveLoop() {
    while (const std::size_t room = Reserve()) {
      auto received = source_.Receive(room);
      if (!received.ok()) {
        Admit(room, {});
        if (IsPermanentReceiveError(received.status())) {
          Fail(received.status());
          return;
        }
        Log(fmt::format("receiving failed, retrying: {}", MessageOf(received.status())));
        clock_.SleepFor(options_.receive_retry_delay, [this] { return Stopping(); });
        continue;
      }
      Admit(room, received->messages);
      metrics_.received += received->messages.size();
      metrics_.in_flight += received->messages.size();
      for (auto& message : received->messages) {
        // A refused Push leaves the message as it was (common/bounded_queue.h).
        if (!queue_.Push(std::move(message)))
          Orphan(std::move(message.ack_id));  // NOLINT(bugprone-use-after-move)
      }
      if (received->exhausted) return;
    }
  }

  // A message received after the committer stopped: handed back at the end.
  void Orphan(std::string ack_id) {
    MutexLock lock(&mutex_);
    orphans_.push_back(std::move(ack_id));
  }

  void CommitLoop() {
    std::vector<SourceMessage> popped;
    TimestampMicros first_staged = 0;
    while (queue_.PopBatch(popped, kPopBatch, kQueuePoll)) {
      if (Stopping()) {
        for (SourceMessage& m : popped) Orphan(std::move(m.ack_id));
        break;
      }
      NoteDrain();
      CollectFinished();
      if (popped.empty() && staged_.empty() && commits_.empty()) ingestor_.NotifyIdle();
      for (SourceMessage& m : popped) {
        if (Stopping()) {  // A commit failed the job: the rest goes back with everything else.
          Orphan(std::move(m.ack_id));
          continue;
        }
        if (staged_.empty()) first_staged = clock_.Now();
        ingestor_
            .Add(IngestMessage{.payload = m.payload,
                               .message_id = m.message_id,
                               .position = m.position,
                               .publish_time = m.publish_time,
                               .source = m.origin,
                               .decode_error = m.decode_error})
            .IgnoreError();  // Add commits nothing here: batch_size is unbounded.
        staged_.push_back({std::move(m.ack_id), m.payload.size(), m.publish_time});
        if (staged_.size() >= options_.batch_size) Commit();
      }
      // Only full batches commit beside others: a sparse stream commits as with one writer,
      // and stages no more tables (each billed, on BigQuery) than it would.
      if (!Stopping() && !staged_.empty() && commits_.empty() &&
          clock_.Now() - first_staged >= options_.max_commit_delay) {
        Commit();
      }
    }
    if (!Stopping() && !staged_.empty()) Commit();
    // Even on cancel: the writers' threads read the batches, and what committed is acked.
    while (!commits_.empty()) CollectOldest();
  }

  // Commits the staged messages: here, or on an idle concurrent writer (waiting for the
  // oldest commit in flight when none is idle) while the next batch stages.
  void Commit() {
    if (!commits_.has_writers()) {
      absl::Status status = ingestor_.Flush();
      if (!status.ok()) ingestor_.Discard();
      Finish(status, staged_);
      return;
    }
    if (!commits_.has_idle_writer()) CollectOldest();
    commits_.Launch(ingestor_.TakeStaged(), std::exchange(staged_, {}));
  }

  // Acknowledges (or hands back) the commits in flight that have finished, oldest first.
  void CollectFinished() {
    while (commits_.OldestFinished()) CollectOldest();
  }

  // Waits for the oldest commit in flight, then acknowledges its messages or hands them back.
  // Oldest first, so that the observer hears of the batches in the order they staged.
  void CollectOldest() {
    auto oldest = commits_.CollectOldest();
    Finish(ingestor_.Settle(*oldest.batch, oldest.result), oldest.payload);
  }

  // After a commit of `staged`'s messages: acknowledges them, or hands them back.
  void Finish(const absl::Status& status, std::vector<Staged>& staged) {
    if (!status.ok()) {
      ++metrics_.commit_failures;
      ++metrics_.commit_failures_in_a_row;
      if (options_.fail_on_commit_error) {
        Fail(status);
        // Handed back at the end, with everything else not committed.
        for (Staged& s : staged) Orphan(std::move(s.ack_id));
        staged.clear();
        return;
      }
      HandBack(status, staged);
      return;
    }
    nack_delay_ = 0;
    metrics_.commit_failures_in_a_row = 0;
    const IngestStats& stats = ingestor_.stats();
    metrics_.stored = stats.stored;
    metrics_.duplicates = stats.duplicates;
    metrics_.dead_lettered = stats.dead_lettered;
    ++metrics_.commits;
    const TimestampMicros now = clock_.Now();
    for (const Staged& s : staged) {
      if (s.publish_time > 0)
        metrics_.ObserveLatency(double(now - s.publish_time) / kMicrosPerSecond);
    }
    // A lost ack only means a redelivery, which the warehouse recognises.
    if (auto acked = source_.Ack(AckIdsOf(staged)); !acked.ok()) {
      Log(fmt::format("acknowledge failed; the messages will be redelivered and deduplicated: {}",
                      MessageOf(acked)));
    } else {
      metrics_.acks += staged.size();
    }
    Release(staged);
  }

  // The commit failed: hand the batch back, to come again after a growing delay, and pause
  // receiving as long.
  void HandBack(const absl::Status& error, std::vector<Staged>& staged) {
    // Paused before the hand-back, so that no receive can come between them: whoever sees
    // the messages handed back sees receiving paused, from that moment on. One step of the
    // backoff a pause: batches that fail within it (several in flight, or cut from one
    // hand-over) share it.
    {
      MutexLock lock(&mutex_);
      if (const TimestampMicros now = clock_.Now(); now >= pause_until_) {
        nack_delay_ =
            std::min(std::max(nack_delay_ * 2, kInitialNackDelay), options_.max_nack_delay);
        pause_until_ = now + nack_delay_;
      }
    }
    Log(fmt::format("commit failed, {} messages handed back for {} s: {}", staged.size(),
                    double(nack_delay_) / kMicrosPerSecond, MessageOf(error)));
    // Unacknowledged messages come back after their lease anyway.
    source_.Nack(AckIdsOf(staged), nack_delay_).IgnoreError();
    metrics_.nacks += staged.size();
    Release(staged);
  }

  // Forgets the messages' leases, frees their flow-control room, and clears `staged`.
  void Release(std::vector<Staged>& staged) {
    std::size_t bytes = 0;
    {
      MutexLock lock(&mutex_);
      for (const Staged& s : staged) {
        leased_.erase(s.ack_id);
        bytes += s.bytes;
      }
      outstanding_messages_ -= staged.size();
      outstanding_bytes_ -= bytes;
    }
    metrics_.in_flight -= staged.size();
    staged.clear();
    room_.SignalAll();
  }

  std::vector<std::string> LeasedIds() {
    MutexLock lock(&mutex_);
    return {leased_.begin(), leased_.end()};
  }

  void ExtendLeases(const std::stop_token& stop) {
    while (true) {
      clock_.SleepFor(options_.lease / 3, [&] { return stop.stop_requested(); });
      if (stop.stop_requested()) return;
      // A lapsed lease means a redelivery, not a loss.
      if (auto ids = LeasedIds(); !ids.empty())
        source_.ExtendLeases(ids, options_.lease).IgnoreError();
    }
  }

  // On cancel or failure: everything received and not committed goes back for redelivery now.
  void HandBackEverything() {
    ingestor_.Discard();
    std::vector<std::string> ids = AckIdsOf(staged_);
    std::vector<SourceMessage> queued;
    while (queue_.PopBatch(queued, kPopBatch, std::chrono::milliseconds(0)) && !queued.empty()) {
      for (SourceMessage& m : queued) ids.push_back(std::move(m.ack_id));
    }
    {
      MutexLock lock(&mutex_);
      ids.insert(ids.end(), orphans_.begin(), orphans_.end());
    }
    if (ids.empty()) return;
    if (source_.Nack(ids, 0).ok()) metrics_.nacks += ids.size();
    metrics_.in_flight -= std::min<std::uint64_t>(metrics_.in_flight, ids.size());
  }

  EventSource& source_;
  const StreamingOptions& options_;
  Clock& clock_;
  JobControl& control_;
  JobMetrics& metrics_;
  BoundedQueue<SourceMessage> queue_;
  // Used by the committer (the calling thread) only.
  Ingestor ingestor_;
  std::vector<Staged> staged_;
  ConcurrentCommits<std::vector<Staged>> commits_;  // Each batch with its messages.
  DurationMicros nack_delay_ = 0;

  absl::Mutex mutex_;
  absl::CondVar room_;  // Signalled when room frees; waiters also poll (the clock may be fake).
  std::unordered_set<std::string> leased_ ABSL_GUARDED_BY(mutex_);
  std::size_t outstanding_messages_ ABSL_GUARDED_BY(mutex_) = 0;
  std::size_t outstanding_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  std::size_t reserved_ ABSL_GUARDED_BY(mutex_) = 0;
  TimestampMicros pause_until_ ABSL_GUARDED_BY(mutex_) = 0;
  std::vector<std::string> orphans_ ABSL_GUARDED_BY(mutex_);
  absl::Status fatal_ ABSL_GUARDED_BY(mutex_);
  std::atomic<bool> failed_ = false;
  std::atomic<bool> told_to_stop_ = false;
};

}  // namespace

absl::Status RunStreaming(EventSource& source, EventSink& sink, const StreamingOptions& options,
                          JobControl& control, JobMetrics& metrics) {
  return StreamingRunner(source, sink, options, control, metrics).Run();
}

}  // namespace bikestream
