// A Pub/Sub connection scripted by a test, for what sits on top of one (the retry decorator,
// the pull source).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "pubsub/pubsub.h"

namespace bikestream::testing_support {

using pubsub::PubsubConnection;
using pubsub::ReceivedMessage;
using pubsub::SubscriptionConfig;

// A Pub/Sub connection of the tests: answers GetTopic with the scripted statuses in turn (OK
// once they run out), and Pull as `pull` says.
class ScriptedConnection final : public PubsubConnection {
 public:
  explicit ScriptedConnection(std::deque<absl::Status> script = {}) : script_(std::move(script)) {}
  int calls = 0;
  // Answers Pull, given the messages asked for. Default: none available.
  std::function<absl::StatusOr<std::vector<ReceivedMessage>>(int max_messages)> pull;

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
  absl::StatusOr<std::vector<ReceivedMessage>> Pull(const std::string&, const std::string&,
                                                    int max_messages) override {
    return pull ? pull(max_messages) : std::vector<ReceivedMessage>{};
  }
  absl::Status Acknowledge(const std::string&, const std::string&,
                           const std::vector<std::string>&) override {
    return {};
  }
  absl::Status ModifyAckDeadline(const std::string&, const std::string&,
                                 const std::vector<std::string>&, int) override {
    return {};
  }

 private:
  std::deque<absl::Status> script_;
};

}  // namespace bikestream::testing_support
