#include "job/push_job.h"

#include <fmt/format.h>
#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/status.h"
#include "ingest/ingestor.h"
#include "job/listen_address.h"
#include "pubsub/wire.h"

namespace bikestream {
namespace {

using json = nlohmann::json;

constexpr auto kStatePoll = std::chrono::milliseconds(50);

struct PushedMessage {
  std::string payload;
  std::string message_id;
  std::string source;
  TimestampMicros publish_time = 0;
  std::promise<absl::Status> committed;
};

// The push envelope as a message to commit; the error is the 400 reply's text.
absl::StatusOr<std::unique_ptr<PushedMessage>> ParseEnvelope(const std::string& body) {
  auto parsed = pubsub::ParsePushEnvelope(body);
  if (!parsed.ok()) return parsed.status();
  auto pushed = std::make_unique<PushedMessage>();
  pushed->payload = std::move(parsed->payload);
  pushed->message_id = std::move(parsed->message_id);
  pushed->publish_time = parsed->publish_time;
  pushed->source = "pubsub:" + (parsed->subscription.empty() ? std::string("push") : parsed->subscription);
  return pushed;
}

// Groups pushed messages into commits: whatever arrived while the last commit ran goes into
// the next one.
class GroupCommitter {
 public:
  GroupCommitter(EventSink& sink, const PushJobOptions& options, JobMetrics& metrics)
      : sink_(sink), options_(options), metrics_(metrics) {}

  // Queues the message; its future says whether its commit succeeded.
  std::future<absl::Status> Submit(std::unique_ptr<PushedMessage> message) {
    auto future = message->committed.get_future();
    {
      std::lock_guard lock(mutex_);
      if (stopped_) {
        message->committed.set_value(absl::UnavailableError("the job is stopping"));
        return future;
      }
      waiting_.push_back(std::move(message));
      ++metrics_.in_flight;
    }
    changed_.notify_one();
    return future;
  }

  // Commits until Stop(); with `commit_rest`, what is still waiting then is committed too.
  void Run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return stopped_ || !waiting_.empty(); });
      if (waiting_.empty() || (stopped_ && !commit_rest_)) break;
      std::vector<std::unique_ptr<PushedMessage>> group;
      while (!waiting_.empty() && group.size() < options_.max_batch) {
        group.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
      }
      lock.unlock();
      CommitGroup(group);
      lock.lock();
    }
    for (auto& message : waiting_) {
      message->committed.set_value(absl::UnavailableError("cancelled before its commit"));
      --metrics_.in_flight;
    }
    waiting_.clear();
  }

  void Stop(bool commit_rest) {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      commit_rest_ = commit_rest;
    }
    changed_.notify_all();
  }

 private:
  void CommitGroup(std::vector<std::unique_ptr<PushedMessage>>& group) {
    // One Ingestor per source keeps dead letters keyed as the pull job keys them.
    Batch batch;
    std::map<std::string, std::unique_ptr<Ingestor>> ingestors;
    absl::Status status;
    for (auto& m : group) {
      auto& ingestor = ingestors[m->source];
      if (!ingestor) {
        ingestor = std::make_unique<Ingestor>(
            sink_, IngestOptions{.source = m->source,
                                      .batch_size = std::numeric_limits<std::size_t>::max(),
                                      .observer = options_.observer});
      }
      ingestor->Add(IngestMessage{.payload = m->payload, .message_id = m->message_id,
                                  .publish_time = m->publish_time})
          .IgnoreError();  // Add commits nothing: batch_size is unbounded.
    }
    for (auto& [source, ingestor] : ingestors) {
      if (status.ok()) status = ingestor->Flush();
      if (status.ok()) {
        metrics_.stored += ingestor->stats().stored;
        metrics_.duplicates += ingestor->stats().duplicates;
        metrics_.dead_lettered += ingestor->stats().dead_lettered;
      }
    }
    if (!status.ok()) {
      ++metrics_.commit_failures;
      metrics_.nacks += group.size();
      if (options_.log) options_.log(fmt::format("commit failed, {} push requests answered 503: {}",
                                                 group.size(), MessageOf(status)));
    } else {
      metrics_.acks += group.size();
    }
    const TimestampMicros now = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    for (auto& m : group) {
      if (status.ok() && m->publish_time > 0) {
        metrics_.ObserveLatency(double(now - m->publish_time) / kMicrosPerSecond);
      }
      m->committed.set_value(status);
      --metrics_.in_flight;
    }
  }

  EventSink& sink_;
  const PushJobOptions& options_;
  JobMetrics& metrics_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<PushedMessage>> waiting_;
  bool stopped_ = false;
  bool commit_rest_ = false;
};

}  // namespace

absl::Status RunPushJob(EventSink& sink, const PushJobOptions& options, JobControl& control,
                        JobMetrics& metrics) {
  auto listen = ParseListenAddress(options.listen, /*port_alone_ok=*/false, "--push-listen",
                                   "127.0.0.1:8080");
  if (!listen.ok()) return listen.status();

  GroupCommitter committer(sink, options, metrics);
  httplib::Server server;
  server.set_payload_max_length(options.max_body_bytes);
  server.set_read_timeout(options.request_timeout);
  server.set_write_timeout(options.request_timeout);
  server.Post(R"(/.*)", [&](const httplib::Request& request, httplib::Response& response) {
    if (!options.token.empty() && request.get_param_value("token") != options.token) {
      response.status = 401;
      response.set_content("missing or wrong ?token=\n", "text/plain");
      return;
    }
    auto message = ParseEnvelope(request.body);
    if (!message.ok()) {
      response.status = 400;
      response.set_content(std::string(MessageOf(message.status())) + "\n", "text/plain");
      return;
    }
    ++metrics.received;
    auto committed = committer.Submit(std::move(*message));
    const bool answered = committed.wait_for(options.request_timeout) == std::future_status::ready;
    const absl::Status status = answered ? committed.get() : absl::DeadlineExceededError("commit timed out");
    // Pub/Sub acknowledges on 2xx only; anything else is redelivered with backoff.
    response.status = status.ok() ? 204 : 503;
    if (!status.ok()) response.set_content(std::string(MessageOf(status)) + "\n", "text/plain");
  });
  auto bound = Bind(server, *listen, "--push-listen");
  if (!bound.ok()) return bound.status();
  if (options.on_listening) options.on_listening(*bound);

  std::thread commit_thread([&] { committer.Run(); });
  std::thread listen_thread([&] { server.listen_after_bind(); });
  while (control.running()) std::this_thread::sleep_for(kStatePoll);
  const bool draining = control.state() == JobState::kDraining;
  // Draining: stop taking requests, then commit and answer the ones that came in.
  committer.Stop(/*commit_rest=*/draining);
  server.stop();
  listen_thread.join();
  commit_thread.join();
  if (draining) control.Finish(JobState::kDrained);
  return absl::OkStatus();
}

}  // namespace bikestream
