// The brokers by name: which `--from` and `--to` values open what, and the errors that name
// the fix before anything is reached. The sources themselves are tested against the real
// servers (tests/job/pubsub_job_test.cc, tests/job/mqtt_job_test.cc).
#include "broker/open_source.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "broker/open_publisher.h"
#include "support/mosquitto_broker.h"

namespace bikestream {
namespace {

TEST(OpenEventSource, KnowsTheStreamingSourcesByNameAndScheme) {
  EXPECT_TRUE(IsStreamingSource("pubsub"));
  EXPECT_TRUE(IsStreamingSource("mqtt://127.0.0.1:1883/bikes"));
  EXPECT_TRUE(IsStreamingSource("mqtts://broker.example/bikes/#"));
  EXPECT_FALSE(IsStreamingSource("events.jsonl"));
  EXPECT_FALSE(IsStreamingSource("-"));
  EXPECT_FALSE(IsStreamingSource("pubsub.jsonl"));
  EXPECT_FALSE(IsStreamingSource("mqtt:"));
}

TEST(OpenEventSource, AFileIsNoStreamingSource) {
  auto opened = OpenEventSource({.from = "events.jsonl"});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().message().find("not a streaming source"), std::string::npos);
}

TEST(OpenEventSource, AnMqttSessionNeedsItsName) {
  auto opened = OpenEventSource({.from = "mqtt://127.0.0.1:1/bikes"});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().message().find("--client-id"), std::string::npos);
}

TEST(OpenEventSource, AClientCertificateNeedsItsKey) {
  auto opened = OpenEventSource({.from = "mqtts://127.0.0.1:1/bikes",
                                 .mqtt = {.client_id = "ingest", .cert_file = "client.pem"}});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("--mqtt-key"), std::string::npos);
}

TEST(OpenEventSource, APushEndpointSaysWhereItListens) {
  auto opened = OpenEventSource({.push = {.listen = "127.0.0.1:0"}});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_NE(opened->started.find("accepting Pub/Sub push requests at http://127.0.0.1:"),
            std::string::npos);
  EXPECT_EQ(opened->options.receivers, 1);
  EXPECT_EQ(opened->options.max_commit_delay, 0);  // Group commit: what came during the last one.
  opened->source->Close();
}

TEST(OpenEventSource, APullSourceLeasesForTheAckDeadline) {
  auto opened = OpenEventSource({.from = "pubsub",
                                 .pubsub = {.emulator_host = "127.0.0.1:1"},
                                 .project = "p",
                                 .subscription = "s",
                                 .pullers = 3,
                                 .ack_deadline_seconds = 90,
                                 .batch_size = 500});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->source->Name(), "pubsub:projects/p/subscriptions/s");
  EXPECT_EQ(opened->options.receivers, 3);
  EXPECT_EQ(opened->options.lease, 90 * kMicrosPerSecond);
  EXPECT_EQ(opened->options.batch_size, 500u);
}

TEST(OpenPublisher, RefusesWhatItDoesNotKnow) {
  auto publisher = OpenPublisher({.to = "kafka://broker/topic"});
  ASSERT_FALSE(publisher.ok());
  EXPECT_EQ(publisher.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(OpenPublisher, PubsubRefusesAnEndpointThatWouldLeakCredentials) {
  auto publisher = OpenPublisher({.to = "pubsub",
                                  .pubsub = {.endpoint = "http://pubsub.example"},
                                  .project = "p",
                                  .topic = "t"});
  ASSERT_FALSE(publisher.ok());
  EXPECT_NE(publisher.status().message().find("--pubsub-endpoint"), std::string::npos);
}

TEST(OpenPublisher, StdoutHasNothingToSummarize) {
  auto publisher = OpenPublisher({.to = "stdout"});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  EXPECT_TRUE((*publisher)->Flush().ok());
  EXPECT_EQ((*publisher)->Summary(), "");
}

// Sparse mode: each message waits for the broker's acknowledgement, then is said on stdout to
// be published; the count at the end is then no news. Against Debian's mosquitto.
TEST(OpenPublisher, ABrokerConfirmsEachMessageWhenAsked) {
  testing_support::MosquittoBroker broker;
  REQUIRE_MOSQUITTO(broker);
  const std::string url = fmt::format("mqtt://127.0.0.1:{}/confirm", broker.port());
  auto confirming = OpenPublisher({.to = url, .confirm_each = true});
  ASSERT_TRUE(confirming.ok()) << confirming.status();
  ::testing::internal::CaptureStdout();
  const absl::Status sent = (*confirming)->Send("{\"event_id\":\"e-1\"}");
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "Published: {\"event_id\":\"e-1\"}\n");
  ASSERT_TRUE(sent.ok()) << sent;
  EXPECT_EQ((*confirming)->Summary(), "");

  auto counting = OpenPublisher({.to = url});
  ASSERT_TRUE(counting.ok()) << counting.status();
  ::testing::internal::CaptureStdout();
  ASSERT_TRUE((*counting)->Send("{}").ok());
  ASSERT_TRUE((*counting)->Flush().ok());
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ((*counting)->Summary(), fmt::format("published 1 messages to {} (QoS 1)", url));
}

}  // namespace
}  // namespace bikestream
