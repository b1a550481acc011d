// The retry decorator over a scripted connection: which errors it retries and how often.
#include <gtest/gtest.h>

#include <deque>

#include "pubsub/pubsub.h"

namespace bikestream::pubsub {
namespace {

// Answers GetTopic with the scripted statuses in turn (OK once they run out).
class ScriptedConnection final : public PubsubConnection {
 public:
  explicit ScriptedConnection(std::deque<absl::Status> script) : script_(std::move(script)) {}
  int calls = 0;

  absl::Status GetTopic(const std::string&, const std::string&) override {
    ++calls;
    if (script_.empty()) return absl::OkStatus();
    absl::Status next = script_.front();
    script_.pop_front();
    return next;
  }
  absl::Status CreateTopic(const std::string&, const std::string&) override { return {}; }
  absl::Status DeleteTopic(const std::string&, const std::string&) override { return {}; }
  absl::Status CreateSubscription(const SubscriptionConfig&) override { return {}; }
  absl::Status GetSubscription(const std::string&, const std::string&) override { return {}; }
  absl::Status DeleteSubscription(const std::string&, const std::string&) override { return {}; }
  absl::StatusOr<std::vector<std::string>> Publish(const std::string&, const std::string&,
                                                   const std::vector<std::string>&) override {
    return std::vector<std::string>{};
  }
  absl::StatusOr<std::vector<ReceivedMessage>> Pull(const std::string&, const std::string&, int) override {
    return std::vector<ReceivedMessage>{};
  }
  absl::Status Acknowledge(const std::string&, const std::string&, const std::vector<std::string>&) override {
    return {};
  }
  absl::Status ModifyAckDeadline(const std::string&, const std::string&,
                                 const std::vector<std::string>&, int) override {
    return {};
  }

 private:
  std::deque<absl::Status> script_;
};

constexpr RetryPolicy kFast{.initial_backoff = kMicrosPerMilli, .max_backoff = 2 * kMicrosPerMilli,
                            .max_attempts = 4};

TEST(RetryingConnection, RetriesTransientErrorsUntilSuccess) {
  auto scripted = std::make_unique<ScriptedConnection>(std::deque<absl::Status>{
      absl::UnavailableError("503"), absl::ResourceExhaustedError("429"),
      absl::DeadlineExceededError("timeout")});
  auto* raw = scripted.get();
  auto retrying = MakeRetryingConnection(std::move(scripted), kFast);
  EXPECT_TRUE(retrying->GetTopic("p", "t").ok());
  EXPECT_EQ(raw->calls, 4);
}

TEST(RetryingConnection, GivesUpAfterMaxAttempts) {
  auto scripted = std::make_unique<ScriptedConnection>(std::deque<absl::Status>(
      10, absl::UnavailableError("still down")));
  auto* raw = scripted.get();
  auto retrying = MakeRetryingConnection(std::move(scripted), kFast);
  EXPECT_EQ(retrying->GetTopic("p", "t").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(raw->calls, 4);
}

TEST(RetryingConnection, DoesNotRetryPermanentErrors) {
  for (const auto& status : {absl::NotFoundError("404"), absl::PermissionDeniedError("403"),
                      absl::InvalidArgumentError("400"), absl::AlreadyExistsError("409")}) {
    auto scripted = std::make_unique<ScriptedConnection>(std::deque<absl::Status>{status});
    auto* raw = scripted.get();
    auto retrying = MakeRetryingConnection(std::move(scripted), kFast);
    EXPECT_EQ(retrying->GetTopic("p", "t").code(), status.code());
    EXPECT_EQ(raw->calls, 1) << status;
  }
}

}  // namespace
}  // namespace bikestream::pubsub
