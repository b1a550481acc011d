#include "pubsub/push_source.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/mutex.h"
#include "common/status.h"
#include "http/http_server.h"
#include "http/listen_address.h"
#include "http/post.h"
#include "pubsub/wire.h"

namespace bikestream::pubsub {
namespace {

// How long Receive() waits for a request when none is waiting.
constexpr absl::Duration kReceiveWait = absl::Milliseconds(50);

// A push request waiting for its answer.
struct Pending {
  PushedMessage message;
  std::promise<absl::Status> answer;
};

class HttpPushSource final : public PushSource {
 public:
  // A push request must arrive whole within the request timeout, and one client cannot take
  // the endpoint's threads (http/http_server.h).
  explicit HttpPushSource(PushSourceOptions options)
      : options_(std::move(options)),
        server_(ServerLimits{.request_deadline = options_.request_timeout,
                             .max_body_bytes = options_.max_body_bytes}) {}

  ~HttpPushSource() override { Close(); }

  absl::Status Listen() {
    auto listen = ParseListenAddress(options_.listen, /*port_alone_ok=*/false, "--push-listen",
                                     "127.0.0.1:8080");
    if (!listen.ok()) return listen.status();
    const auto timeout = std::chrono::microseconds(options_.request_timeout);
    server_.set_read_timeout(timeout);
    server_.set_write_timeout(timeout);
    HandlePost(server_, R"(/.*)",
               [this](const httplib::Request& request, const std::string& body,
                      httplib::Response& response) { Serve(request, body, response); });
    auto bound = server_.Start(*listen, "--push-listen");
    if (!bound.ok()) return bound.status();
    address_ = *bound;
    return absl::OkStatus();
  }

  std::string Name() const override { return "push:" + options_.listen; }
  const std::string& address() const override { return address_; }

  absl::StatusOr<Received> Receive(std::size_t max_messages) override {
    Received received;
    MutexLock lock(&mutex_);
    if (waiting_.empty() && !stopped_) WaitWithTimeout(arrived_, &mutex_, kReceiveWait);
    while (!waiting_.empty() && received.messages.size() < max_messages) {
      Pending pending = std::move(waiting_.front());
      waiting_.pop_front();
      const std::string ack_id = std::to_string(++last_ack_id_);
      PushedMessage& m = pending.message;
      received.messages.push_back(SourceMessage{
          .ack_id = ack_id,
          .payload = std::move(m.payload),
          .message_id = std::move(m.message_id),
          .origin = "pubsub:" + (m.subscription.empty() ? std::string("push") : m.subscription),
          .publish_time = m.publish_time,
          .decode_error = std::move(m.decode_error)});
      received_.emplace(ack_id, std::move(pending.answer));
    }
    received.exhausted = stopped_ && waiting_.empty();
    return received;
  }

  absl::Status Ack(const std::vector<std::string>& ack_ids) override {
    Answer(ack_ids, absl::OkStatus());
    return absl::OkStatus();
  }

  absl::Status Nack(const std::vector<std::string>& ack_ids, TimestampMicros) override {
    // Pub/Sub redelivers a push that was refused, with its own backoff.
    Answer(ack_ids, absl::UnavailableError("the commit failed; Pub/Sub will redeliver"));
    return absl::OkStatus();
  }

  void StopReceiving() override {
    MutexLock lock(&mutex_);
    if (stopped_) return;
    stopped_ = true;
    // Not here: stopping the server waits for the requests in flight, whose answers come from
    // the runner that is calling this.
    stopper_ = std::thread([this] { server_.Stop(); });
  }

  void Close() override {
    StopReceiving();
    std::thread stopper;
    {
      MutexLock lock(&mutex_);
      for (Pending& pending : waiting_)
        pending.answer.set_value(absl::UnavailableError("the job is stopping"));
      waiting_.clear();
      for (auto& [id, answer] : received_)
        answer.set_value(absl::UnavailableError("cancelled before its commit"));
      received_.clear();
      stopper = std::move(stopper_);
    }
    if (stopper.joinable()) stopper.join();
  }

 private:
  void Serve(const httplib::Request& request, const std::string& body,
             httplib::Response& response) {
    if (!options_.token.empty() && request.get_param_value("token") != options_.token) {
      response.status = 401;
      response.set_content("missing or wrong ?token=\n", "text/plain");
      return;
    }
    auto message = ParsePushEnvelope(body);
    if (!message.ok()) {
      response.status = 400;
      response.set_content(std::string(MessageOf(message.status())) + "\n", "text/plain");
      return;
    }
    std::future<absl::Status> answer = Submit(std::move(*message));
    const bool answered = answer.wait_for(std::chrono::microseconds(options_.request_timeout)) ==
                          std::future_status::ready;
    const absl::Status status =
        answered ? answer.get() : absl::DeadlineExceededError("commit timed out");
    // Pub/Sub acknowledges on 2xx only; anything else is redelivered with backoff.
    response.status = status.ok() ? 204 : 503;
    if (!status.ok()) response.set_content(std::string(MessageOf(status)) + "\n", "text/plain");
  }

  std::future<absl::Status> Submit(PushedMessage message) {
    Pending pending{std::move(message), {}};
    std::future<absl::Status> answer = pending.answer.get_future();
    MutexLock lock(&mutex_);
    if (stopped_) {
      pending.answer.set_value(absl::UnavailableError("the job is stopping"));
    } else {
      waiting_.push_back(std::move(pending));
      arrived_.Signal();
    }
    return answer;
  }

  void Answer(const std::vector<std::string>& ack_ids, const absl::Status& status) {
    MutexLock lock(&mutex_);
    for (const std::string& id : ack_ids) {
      if (auto found = received_.find(id); found != received_.end()) {
        found->second.set_value(status);
        received_.erase(found);
      }
    }
  }

  const PushSourceOptions options_;
  HttpServer server_;
  std::string address_;

  absl::Mutex mutex_;
  absl::CondVar arrived_;
  bool stopped_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread stopper_ ABSL_GUARDED_BY(mutex_);          // Started by the first StopReceiving().
  std::deque<Pending> waiting_ ABSL_GUARDED_BY(mutex_);  // Taken in, not yet received.
  std::map<std::string, std::promise<absl::Status>> received_ ABSL_GUARDED_BY(mutex_);
  std::uint64_t last_ack_id_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PushSource>> PushSource::Start(const PushSourceOptions& options) {
  auto source = std::make_unique<HttpPushSource>(options);
  if (auto status = source->Listen(); !status.ok()) return status;
  return source;
}

}  // namespace bikestream::pubsub
