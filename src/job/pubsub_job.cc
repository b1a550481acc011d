#include "job/pubsub_job.h"

#include <fmt/format.h>

#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "broker/inproc_queue.h"
#include "common/status.h"

namespace bikestream {
namespace {

using Clock = std::chrono::steady_clock;
using pubsub::ReceivedMessage;

constexpr std::size_t kMaxAckIdsPerRequest = 1000;
constexpr auto kInitialNackDelay = std::chrono::seconds(1);
constexpr auto kFlowControlPoll = std::chrono::milliseconds(100);

// Errors a pull cannot get past by waiting: the job fails with them.
bool IsPermanent(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kInvalidArgument:
      return true;
    default:
      return false;
  }
}

TimestampMicros WallNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

// Calls `send` with `ids` in requests of at most kMaxAckIdsPerRequest, the service's limit.
void InRequests(const std::vector<std::string>& ids,
                const std::function<void(const std::vector<std::string>&)>& send) {
  for (std::size_t i = 0; i < ids.size(); i += kMaxAckIdsPerRequest) {
    send({ids.begin() + i, ids.begin() + std::min(ids.size(), i + kMaxAckIdsPerRequest)});
  }
}

class PubsubJob {
 public:
  PubsubJob(pubsub::PubsubConnection& connection, EventSink& sink,
            const PubsubJobOptions& options, JobControl& control, JobMetrics& metrics)
      : connection_(connection),
        options_(options),
        control_(control),
        metrics_(metrics),
        // Room for what flow control admits plus the pulls already under way, so a puller
        // never blocks on the queue.
        queue_(options.max_outstanding_messages +
               std::size_t(std::max(1, options.pullers)) * options.max_messages_per_pull),
        ingestor_(sink,
                  IngestOptions{.source = fmt::format("pubsub:projects/{}/subscriptions/{}",
                                                      options.project, options.subscription),
                                .batch_size = std::numeric_limits<std::size_t>::max(),
                                .observer = options.observer}) {}

  absl::Status Run() {
    std::vector<std::jthread> pullers;
    for (int i = 0; i < std::max(1, options_.pullers); ++i) pullers.emplace_back([this] { Pull(); });
    std::jthread lease_extender([this](std::stop_token stop) { ExtendLeases(stop); });
    std::jthread closer([this, &pullers] {
      for (auto& puller : pullers) puller.join();
      queue_.Close();
    });
    Commit();
    queue_.Close();  // On cancel or failure, unblocks pullers still handing over messages.
    closer.join();
    lease_extender.request_stop();
    lease_extender.join();
    if (control_.state() == JobState::kCancelled || !fatal_.ok()) NackAllLeased();
    if (!fatal_.ok()) {
      control_.Finish(JobState::kFailed);
      return fatal_;
    }
    if (control_.state() == JobState::kDraining) control_.Finish(JobState::kDrained);
    return absl::OkStatus();
  }

 private:
  bool Stopping() const { return !control_.running() || failed_.load(); }

  void Fail(absl::Status status) {
    std::lock_guard lock(mutex_);
    if (fatal_.ok()) fatal_ = std::move(status);
    failed_ = true;
    room_.notify_all();
  }

  void Log(const std::string& line) {
    if (options_.log) options_.log(line);
  }

  // Waits for flow-control room or a stop; false on stop.
  bool WaitForRoom() {
    std::unique_lock lock(mutex_);
    while (!Stopping()) {
      const bool paused = Clock::now() < pause_until_;
      if (!paused && outstanding_messages_ < options_.max_outstanding_messages &&
          outstanding_bytes_ < options_.max_outstanding_bytes) {
        return true;
      }
      room_.wait_for(lock, kFlowControlPoll);
    }
    return false;
  }

  void Pull() {
    while (WaitForRoom()) {
      auto pulled = connection_.Pull(options_.project, options_.subscription,
                                     options_.max_messages_per_pull);
      if (!pulled.ok()) {
        if (IsPermanent(pulled.status())) {
          Fail(pulled.status());
          return;
        }
        Log(fmt::format("pull failed, retrying: {}", MessageOf(pulled.status())));
        std::this_thread::sleep_for(options_.idle_pull_delay);
        continue;
      }
      if (pulled->empty()) {
        std::this_thread::sleep_for(options_.idle_pull_delay);
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        for (const auto& m : *pulled) {
          leased_.insert(m.ack_id);
          outstanding_bytes_ += m.message.data.size();
        }
        outstanding_messages_ += pulled->size();
      }
      metrics_.received += pulled->size();
      metrics_.in_flight += pulled->size();
      for (auto& message : *pulled) queue_.Push(std::move(message));
    }
  }

  void Commit() {
    std::vector<ReceivedMessage> popped;
    std::vector<Staged> staged;
    auto first_staged = Clock::now();
    while (queue_.PopBatch(popped, kMaxAckIdsPerRequest, options_.max_commit_delay)) {
      if (control_.state() == JobState::kCancelled || failed_) return;
      if (popped.empty() && staged.empty()) ingestor_.NotifyIdle();
      for (auto& m : popped) {
        if (staged.empty()) first_staged = Clock::now();
        ingestor_.Add(IngestMessage{.payload = m.message.data,
                                    .message_id = m.message.message_id,
                                    .publish_time = m.message.publish_time})
            .IgnoreError();  // Add commits nothing here: batch_size is unbounded.
        staged.push_back({std::move(m.ack_id), m.message.data.size(), m.message.publish_time});
      }
      if (!staged.empty() && (staged.size() >= options_.batch_size ||
                              Clock::now() - first_staged >= options_.max_commit_delay)) {
        CommitAndAck(staged);
      }
    }
    if (control_.state() != JobState::kCancelled && !failed_ && !staged.empty()) {
      CommitAndAck(staged);
    }
  }

  void CommitAndAck(std::vector<Staged>& staged) {
    if (absl::Status status = ingestor_.Flush(); !status.ok()) {
      HandBack(staged, status);
      return;
    }
    nack_delay_ = std::chrono::seconds(0);
    const IngestStats& stats = ingestor_.stats();
    metrics_.stored = stats.stored;
    metrics_.duplicates = stats.duplicates;
    metrics_.dead_lettered = stats.dead_lettered;
    const TimestampMicros now = WallNow();
    for (const Staged& s : staged) {
      if (s.publish_time > 0) metrics_.ObserveLatency(double(now - s.publish_time) / kMicrosPerSecond);
    }
    InRequests(AckIdsOf(staged), [&](const std::vector<std::string>& chunk) {
      // A lost ack only means a redelivery, which the warehouse recognises.
      if (auto status = connection_.Acknowledge(options_.project, options_.subscription, chunk);
          !status.ok()) {
        Log(fmt::format("acknowledge failed; the messages will be redelivered and deduplicated: {}",
                        MessageOf(status)));
      } else {
        metrics_.acks += chunk.size();
      }
    });
    Release(staged);
  }

  // The commit failed: hand the batch back to Pub/Sub, to come again after a growing delay,
  // and pause pulling as long.
  void HandBack(std::vector<Staged>& staged, const absl::Status& error) {
    ingestor_.Discard();
    ++metrics_.commit_failures;
    nack_delay_ = std::min<std::chrono::milliseconds>(
        std::max<std::chrono::milliseconds>(nack_delay_ * 2, kInitialNackDelay),
        options_.max_nack_delay);
    Log(fmt::format("commit failed, {} messages handed back for {} s: {}", staged.size(),
                    nack_delay_.count() / 1000.0, MessageOf(error)));
    const int delay_seconds = int(std::chrono::ceil<std::chrono::seconds>(nack_delay_).count());
    InRequests(AckIdsOf(staged), [&](const std::vector<std::string>& chunk) {
      connection_.ModifyAckDeadline(options_.project, options_.subscription, chunk, delay_seconds)
          .IgnoreError();  // Unacked messages come back after their deadline anyway.
    });
    metrics_.nacks += staged.size();
    {
      std::lock_guard lock(mutex_);
      pause_until_ = Clock::now() + nack_delay_;
    }
    Release(staged);
  }

  // Forgets the messages' leases and frees their flow-control room.
  void Release(std::vector<Staged>& staged) {
    std::size_t bytes = 0;
    {
      std::lock_guard lock(mutex_);
      for (const Staged& s : staged) {
        leased_.erase(s.ack_id);
        bytes += s.bytes;
      }
      outstanding_messages_ -= staged.size();
      outstanding_bytes_ -= bytes;
    }
    metrics_.in_flight -= staged.size();
    room_.notify_all();
    staged.clear();
  }

  std::vector<std::string> LeasedIds() {
    std::lock_guard lock(mutex_);
    return {leased_.begin(), leased_.end()};
  }

  void ExtendLeases(std::stop_token stop) {
    const auto interval = std::chrono::seconds(std::max(1, options_.ack_deadline_seconds / 3));
    std::mutex sleep_mutex;
    std::condition_variable_any sleeper;
    while (true) {
      {
        std::unique_lock lock(sleep_mutex);
        sleeper.wait_for(lock, stop, interval, [] { return false; });
      }
      if (stop.stop_requested()) return;
      InRequests(LeasedIds(), [&](const std::vector<std::string>& chunk) {
        connection_.ModifyAckDeadline(options_.project, options_.subscription, chunk,
                                      options_.ack_deadline_seconds)
            .IgnoreError();  // A lapsed lease means a redelivery, not a loss.
      });
    }
  }

  // On cancel or failure: what was received and not committed goes back for redelivery now.
  void NackAllLeased() {
    InRequests(LeasedIds(), [&](const std::vector<std::string>& chunk) {
      if (connection_.ModifyAckDeadline(options_.project, options_.subscription, chunk, 0).ok()) {
        metrics_.nacks += chunk.size();
      }
    });
  }

  pubsub::PubsubConnection& connection_;
  const PubsubJobOptions& options_;
  JobControl& control_;
  JobMetrics& metrics_;
  InprocQueue<ReceivedMessage> queue_;
  Ingestor ingestor_;  // Used by the committer (the calling thread) only.
  std::chrono::milliseconds nack_delay_{0};

  std::mutex mutex_;  // Guards what follows.
  std::condition_variable room_;
  std::unordered_set<std::string> leased_;
  std::size_t outstanding_messages_ = 0;
  std::size_t outstanding_bytes_ = 0;
  Clock::time_point pause_until_;
  absl::Status fatal_;
  std::atomic<bool> failed_ = false;
};

}  // namespace

absl::Status RunPubsubJob(pubsub::PubsubConnection& connection, EventSink& sink,
                          const PubsubJobOptions& options, JobControl& control,
                          JobMetrics& metrics) {
  return PubsubJob(connection, sink, options, control, metrics).Run();
}

}  // namespace bikestream
