// The retry decorator: each operation of the child, retried on transient errors.
#include "common/retry.h"
#include "gcp/google_api.h"
#include "pubsub/pubsub.h"

namespace bikestream::pubsub {
namespace {

class RetryingConnection final : public PubsubConnection {
 public:
  RetryingConnection(std::unique_ptr<PubsubConnection> child, RetryPolicy policy, Clock& clock)
      : child_(std::move(child)), policy_(std::move(policy)), clock_(clock) {}

  absl::Status CreateTopic(const std::string& p, const std::string& t) override {
    return Retrying([&] { return child_->CreateTopic(p, t); });
  }
  absl::Status GetTopic(const std::string& p, const std::string& t) override {
    return Retrying([&] { return child_->GetTopic(p, t); });
  }
  absl::Status DeleteTopic(const std::string& p, const std::string& t) override {
    return Retrying([&] { return child_->DeleteTopic(p, t); });
  }
  absl::Status CreateSubscription(const SubscriptionConfig& c) override {
    return Retrying([&] { return child_->CreateSubscription(c); });
  }
  absl::Status GetSubscription(const std::string& p, const std::string& s) override {
    return Retrying([&] { return child_->GetSubscription(p, s); });
  }
  absl::Status DeleteSubscription(const std::string& p, const std::string& s) override {
    return Retrying([&] { return child_->DeleteSubscription(p, s); });
  }
  absl::StatusOr<std::vector<std::string>> Publish(
      const std::string& p, const std::string& t,
      const std::vector<std::string>& payloads) override {
    return Retrying([&] { return child_->Publish(p, t, payloads); });
  }
  absl::StatusOr<std::vector<ReceivedMessage>> Pull(const std::string& p, const std::string& s,
                                                    int max_messages) override {
    return Retrying([&] { return child_->Pull(p, s, max_messages); });
  }
  absl::Status Acknowledge(const std::string& p, const std::string& s,
                           const std::vector<std::string>& ack_ids) override {
    return Retrying([&] { return child_->Acknowledge(p, s, ack_ids); });
  }
  absl::Status ModifyAckDeadline(const std::string& p, const std::string& s,
                                 const std::vector<std::string>& ack_ids, int seconds) override {
    return Retrying([&] { return child_->ModifyAckDeadline(p, s, ack_ids, seconds); });
  }

 private:
  template <typename Operation>
  std::invoke_result_t<Operation> Retrying(Operation operation) {
    return Retry(clock_, policy_, gcp::IsRetryable, operation);
  }

  std::unique_ptr<PubsubConnection> child_;
  const RetryPolicy policy_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<PubsubConnection> MakeRetryingConnection(std::unique_ptr<PubsubConnection> child,
                                                         RetryPolicy policy, Clock& clock) {
  return std::make_unique<RetryingConnection>(std::move(child), std::move(policy), clock);
}

}  // namespace bikestream::pubsub
