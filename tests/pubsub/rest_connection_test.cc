// The REST client against the real Pub/Sub emulator.
#include <gtest/gtest.h>

#include <set>

#include "support/pubsub_emulator.h"

namespace bikestream::pubsub {
namespace {

using testing_support::PubsubEmulator;
using testing_support::SharedEmulator;

constexpr const char* kProject = PubsubEmulator::kProject;

TEST(PubsubRest, CreatesTopicsAndSubscriptionsIdempotently) {
  REQUIRE_PUBSUB_EMULATOR();
  auto client = SharedEmulator().Connect();
  ASSERT_TRUE(client->CreateTopic(kProject, "topic-idem").ok());
  ASSERT_TRUE(client->CreateTopic(kProject, "topic-idem").ok());
  SubscriptionConfig config{.project = kProject, .subscription = "sub-idem", .topic = "topic-idem"};
  ASSERT_TRUE(client->CreateSubscription(config).ok());
  ASSERT_TRUE(client->CreateSubscription(config).ok());
  EXPECT_TRUE(client->GetSubscription(kProject, "sub-idem").ok());
  EXPECT_TRUE(client->DeleteSubscription(kProject, "sub-idem").ok());
  EXPECT_EQ(client->GetSubscription(kProject, "sub-idem").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(client->DeleteTopic(kProject, "topic-idem").ok());
}

TEST(PubsubRest, AnExistingSubscriptionOnAnotherTopicIsAnErrorThatNamesTheFix) {
  REQUIRE_PUBSUB_EMULATOR();
  auto client = SharedEmulator().Connect();
  ASSERT_TRUE(client->CreateTopic(kProject, "topic-mine").ok());
  ASSERT_TRUE(client->CreateTopic(kProject, "topic-other").ok());
  ASSERT_TRUE(client
                  ->CreateSubscription(
                      {.project = kProject, .subscription = "sub-taken", .topic = "topic-other"})
                  .ok());
  auto status = client->CreateSubscription(
      {.project = kProject, .subscription = "sub-taken", .topic = "topic-mine"});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("attached to projects/" + std::string(kProject) +
                                  "/topics/topic-other"),
            std::string::npos)
      << status;
  EXPECT_NE(status.message().find("gcloud pubsub subscriptions delete sub-taken"),
            std::string::npos)
      << status;
  EXPECT_TRUE(client->DeleteSubscription(kProject, "sub-taken").ok());
}

TEST(PubsubRest, PublishPullAckRoundTripKeepsBytes) {
  REQUIRE_PUBSUB_EMULATOR();
  auto client = SharedEmulator().Connect();
  ASSERT_TRUE(client->CreateTopic(kProject, "topic-rt").ok());
  ASSERT_TRUE(
      client
          ->CreateSubscription({.project = kProject, .subscription = "sub-rt", .topic = "topic-rt"})
          .ok());
  const std::vector<std::string> payloads = {"{\"a\":1}", std::string("bin\0ary\xff", 8), "x",
                                             "yz"};
  auto ids = client->Publish(kProject, "topic-rt", payloads);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->size(), payloads.size());

  std::multiset<std::string> received;
  std::vector<std::string> ack_ids;
  for (int attempt = 0; attempt < 50 && received.size() < payloads.size(); ++attempt) {
    auto pulled = client->Pull(kProject, "sub-rt", 100);
    ASSERT_TRUE(pulled.ok()) << pulled.status();
    for (auto& m : *pulled) {
      received.insert(m.message.data);
      ack_ids.push_back(m.ack_id);
      EXPECT_FALSE(m.message.message_id.empty());
      EXPECT_GT(m.message.publish_time, 0);
    }
  }
  EXPECT_EQ(received, std::multiset<std::string>(payloads.begin(), payloads.end()));
  ASSERT_TRUE(client->Acknowledge(kProject, "sub-rt", ack_ids).ok());
  auto after = client->Pull(kProject, "sub-rt", 100);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
}

TEST(PubsubRest, NackRedeliversAtOnce) {
  REQUIRE_PUBSUB_EMULATOR();
  auto client = SharedEmulator().Connect();
  ASSERT_TRUE(client->CreateTopic(kProject, "topic-nack").ok());
  ASSERT_TRUE(client
                  ->CreateSubscription(
                      {.project = kProject, .subscription = "sub-nack", .topic = "topic-nack"})
                  .ok());
  ASSERT_TRUE(client->Publish(kProject, "topic-nack", {"again"}).ok());
  std::vector<ReceivedMessage> first;
  for (int i = 0; i < 50 && first.empty(); ++i) first = *client->Pull(kProject, "sub-nack", 10);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(client->ModifyAckDeadline(kProject, "sub-nack", {first[0].ack_id}, 0).ok());
  std::vector<ReceivedMessage> second;
  for (int i = 0; i < 50 && second.empty(); ++i) second = *client->Pull(kProject, "sub-nack", 10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message.message_id, first[0].message.message_id);
}

TEST(PubsubRest, ErrorsAreOneClearLine) {
  REQUIRE_PUBSUB_EMULATOR();
  auto client = SharedEmulator().Connect();
  auto published = client->Publish(kProject, "no-such-topic", {"x"});
  ASSERT_FALSE(published.ok());
  EXPECT_EQ(published.status().code(), absl::StatusCode::kNotFound);
  const std::string message(published.status().message());
  EXPECT_NE(message.find("publish projects/bikestream-test/topics/no-such-topic"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("bikestream setup"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(PubsubRest, UnreachableServiceIsUnavailableAfterRetries) {
  auto client = MakeRetryingConnection(
      MakeRestConnection(
          {.emulator_host = fmt::format("127.0.0.1:{}", testing_support::FreeLoopbackPort())}),
      RetryPolicy{.initial_backoff = kMicrosPerMilli, .max_attempts = 3});
  auto status = client->GetTopic(kProject, "topic");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(status.message()).find("PUBSUB_EMULATOR_HOST"), std::string::npos);
}

}  // namespace
}  // namespace bikestream::pubsub
