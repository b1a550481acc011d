// The retry decorator: each operation of the child, retried on transient errors.
#include <random>
#include <thread>

#include "pubsub/pubsub.h"

namespace bikestream::pubsub {
namespace {

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

class RetryingConnection final : public PubsubConnection {
 public:
  RetryingConnection(std::unique_ptr<PubsubConnection> child, RetryPolicy policy)
      : child_(std::move(child)), policy_(policy) {}

  absl::Status CreateTopic(const std::string& p, const std::string& t) override {
    return Retry([&] { return child_->CreateTopic(p, t); });
  }
  absl::Status GetTopic(const std::string& p, const std::string& t) override {
    return Retry([&] { return child_->GetTopic(p, t); });
  }
  absl::Status DeleteTopic(const std::string& p, const std::string& t) override {
    return Retry([&] { return child_->DeleteTopic(p, t); });
  }
  absl::Status CreateSubscription(const SubscriptionConfig& c) override {
    return Retry([&] { return child_->CreateSubscription(c); });
  }
  absl::Status GetSubscription(const std::string& p, const std::string& s) override {
    return Retry([&] { return child_->GetSubscription(p, s); });
  }
  absl::Status DeleteSubscription(const std::string& p, const std::string& s) override {
    return Retry([&] { return child_->DeleteSubscription(p, s); });
  }
  absl::StatusOr<std::vector<std::string>> Publish(const std::string& p, const std::string& t,
                                                   const std::vector<std::string>& payloads) override {
    return Retry([&] { return child_->Publish(p, t, payloads); });
  }
  absl::StatusOr<std::vector<ReceivedMessage>> Pull(const std::string& p, const std::string& s,
                                                    int max_messages) override {
    return Retry([&] { return child_->Pull(p, s, max_messages); });
  }
  absl::Status Acknowledge(const std::string& p, const std::string& s,
                           const std::vector<std::string>& ack_ids) override {
    return Retry([&] { return child_->Acknowledge(p, s, ack_ids); });
  }
  absl::Status ModifyAckDeadline(const std::string& p, const std::string& s,
                                 const std::vector<std::string>& ack_ids, int seconds) override {
    return Retry([&] { return child_->ModifyAckDeadline(p, s, ack_ids, seconds); });
  }

 private:
  template <typename Operation>
  auto Retry(Operation operation) -> decltype(operation()) {
    auto backoff = policy_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      auto result = operation();
      if (!IsTransient(StatusOf(result)) || attempt >= policy_.max_attempts) return result;
      // Full jitter: a random wait up to the backoff, so retrying clients spread out.
      std::uniform_int_distribution<long> jitter(0, backoff.count());
      long wait;
      {
        std::lock_guard lock(random_mutex_);
        wait = jitter(random_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      backoff = std::min(backoff * 2, policy_.max_backoff);
    }
  }

  std::unique_ptr<PubsubConnection> child_;
  RetryPolicy policy_;
  std::mutex random_mutex_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace

std::unique_ptr<PubsubConnection> MakeRetryingConnection(std::unique_ptr<PubsubConnection> child,
                                                         RetryPolicy policy) {
  return std::make_unique<RetryingConnection>(std::move(child), policy);
}

}  // namespace bikestream::pubsub
