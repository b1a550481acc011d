// Pub/Sub's contract against Google Cloud itself, with real credentials: runs only when
// BIKESTREAM_TEST_GCP_PROJECT names a project and Application Default Credentials are there
// (docs/google-cloud.md); otherwise it says in one line that it skipped, in CI too, since no
// machine of ours reaches Google. It makes a topic and a subscription of its own and deletes them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>

#include "gcp/credentials.h"
#include "pubsub/pubsub.h"

namespace bikestream::pubsub {
namespace {

TEST(LivePubsub, PublishPullAcknowledgeAndErrorsAgainstGoogleCloud) {
  const char* project = std::getenv("BIKESTREAM_TEST_GCP_PROJECT");
  if (!project || !*project)
    GTEST_SKIP()
        << "skipped: set BIKESTREAM_TEST_GCP_PROJECT (and credentials) to run against Google Cloud";
  auto credentials = gcp::CredentialsFromProcessEnvironment();
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ConnectionOptions options{.credentials = *credentials};
  if (const char* endpoint = std::getenv("PUBSUB_ENDPOINT")) options.endpoint = endpoint;
  auto client = MakeRetryingConnection(MakeRestConnection(options));
  const std::string suffix =
      std::to_string(getpid()) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  const std::string topic = "bikestream-live-" + suffix,
                    subscription = "bikestream-live-sub-" + suffix;
  ASSERT_TRUE(client->CreateTopic(project, topic).ok());
  ASSERT_TRUE(client->CreateTopic(project, topic).ok());  // Idempotent.
  ASSERT_TRUE(
      client->CreateSubscription({.project = project, .subscription = subscription, .topic = topic})
          .ok());

  const std::vector<std::string> payloads = {"{\"a\":1}", std::string("bin\0ary\xff", 8), "x"};
  auto ids = client->Publish(project, topic, payloads);
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::multiset<std::string> received;
  std::vector<std::string> ack_ids;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received.size() < payloads.size() && std::chrono::steady_clock::now() < deadline) {
    auto pulled = client->Pull(project, subscription, 100);
    ASSERT_TRUE(pulled.ok()) << pulled.status();
    for (auto& m : *pulled) {
      received.insert(m.message.data);
      ack_ids.push_back(m.ack_id);
    }
  }
  EXPECT_EQ(received, std::multiset<std::string>(payloads.begin(), payloads.end()));
  EXPECT_TRUE(client->Acknowledge(project, subscription, ack_ids).ok());

  auto missing = client->Publish(project, topic + "-missing", {"x"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();

  EXPECT_TRUE(client->DeleteSubscription(project, subscription).ok());
  EXPECT_TRUE(client->DeleteTopic(project, topic).ok());
}

}  // namespace
}  // namespace bikestream::pubsub
