// The MQTT source and publisher against Debian's mosquitto broker: what the broker gets
// acknowledged, and when.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "common/file.h"
#include "ingest/ingestor.h"
#include "mqtt/mqtt_publisher.h"
#include "mqtt/mqtt_source.h"
#include "support/mosquitto_broker.h"

namespace bikestream::mqtt {
namespace {

using testing_support::MosquittoBroker;

TEST(MqttEndpoint, ParsesHostPortTopicAndCredentials) {
  auto plain = ParseEndpoint("mqtt://broker.example/bikes/oslo/+");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->host, "broker.example");
  EXPECT_EQ(plain->port, 1883);
  EXPECT_EQ(plain->topic, "bikes/oslo/+");
  EXPECT_FALSE(plain->tls);

  auto secure = ParseEndpoint("mqtts://sensor:s3cret@10.0.0.5:9883/#");
  ASSERT_TRUE(secure.ok()) << secure.status();
  EXPECT_TRUE(secure->tls);
  EXPECT_EQ(secure->port, 9883);
  EXPECT_EQ(secure->username, "sensor");
  EXPECT_EQ(secure->password, "s3cret");
  EXPECT_EQ(secure->topic, "#");
  EXPECT_EQ(secure->Name(), "mqtts://10.0.0.5:9883/#");  // No credentials in names.
  EXPECT_EQ(ParseEndpoint("mqtts://[::1]/t")->host, "::1");
  EXPECT_EQ(ParseEndpoint("mqtts://[::1]/t")->port, 8883);
}

TEST(MqttEndpoint, SaysWhatIsWrong) {
  EXPECT_NE(ParseEndpoint("tcp://h/t").status().message().find("mqtt://HOST[:PORT]/TOPIC"),
            std::string::npos);
  EXPECT_NE(ParseEndpoint("mqtt://h").status().message().find("names no topic"), std::string::npos);
  EXPECT_NE(ParseEndpoint("mqtt://h/").status().message().find("names no topic"),
            std::string::npos);
  EXPECT_NE(ParseEndpoint("mqtt://h:99999/t").status().message().find("1..65535"),
            std::string::npos);
  EXPECT_NE(ParseEndpoint("mqtt://:1883/t").status().message().find("names no host"),
            std::string::npos);
}

class MqttTest : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_MOSQUITTO(broker_); }

  ConnectionOptions Connection(const std::string& client_id = "", const std::string& topic = "") {
    auto endpoint = ParseEndpoint(broker_.Url(topic.empty() ? topic_ : topic));
    return ConnectionOptions{.endpoint = *endpoint, .client_id = client_id};
  }

  std::unique_ptr<Source> StartSource(int receive_maximum = 1000) {
    auto source = Source::Start(SourceOptions{.connection = Connection("ingest-" + topic_),
                                              .receive_maximum = receive_maximum});
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? std::move(*source) : nullptr;
  }

  void Publish(int first, int count, const std::string& topic = "") {
    auto publisher = Publisher::Start(PublisherOptions{.connection = Connection("", topic)});
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    for (int i = first; i < first + count; ++i) {
      ASSERT_TRUE((*publisher)->Publish(fmt::format("message {}", i)).ok());
    }
    ASSERT_TRUE((*publisher)->Flush().ok());
  }

  // Receives until `count` messages came (or 10 s passed), acknowledging each batch when `ack`.
  static std::vector<SourceMessage> ReceiveAll(Source& source, std::size_t count, bool ack) {
    std::vector<SourceMessage> all;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto received = source.Receive(500);
      if (!received.ok()) {
        ADD_FAILURE() << received.status();
        break;
      }
      std::vector<std::string> ids;
      for (auto& message : received->messages) {
        ids.push_back(message.ack_id);
        all.push_back(std::move(message));
      }
      if (ack && !ids.empty()) {
        EXPECT_TRUE(source.Ack(ids).ok());
      }
    }
    return all;
  }

  static std::set<std::string> Payloads(const std::vector<SourceMessage>& messages) {
    std::set<std::string> payloads;
    for (const auto& message : messages) payloads.insert(message.payload);
    return payloads;
  }

  static std::set<std::string> Expected(int first, int count) {
    std::set<std::string> payloads;
    for (int i = first; i < first + count; ++i) payloads.insert(fmt::format("message {}", i));
    return payloads;
  }

  MosquittoBroker broker_;
  std::string topic_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
};

// A session keeps its subscriptions at the broker: restarted on another topic under the same
// client id, a job once went on receiving the old one. The old filter, kept in the session's
// file, is unsubscribed; what was queued for it is acknowledged and left out, and counted.
TEST_F(MqttTest, ASessionRestartedOnAnotherTopicReceivesThatTopicOnly) {
  const std::string old_topic = topic_ + "/old";
  const std::string new_topic = topic_ + "/new";
  const std::string record = ::testing::TempDir() + "/" + topic_ + ".subscriptions";
  std::filesystem::remove(record);
  const auto start = [&](const std::string& topic) {
    auto source = Source::Start(SourceOptions{.connection = Connection("ingest-" + topic_, topic),
                                              .subscriptions_path = record});
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? std::move(*source) : nullptr;
  };
  start(old_topic).reset();
  Publish(0, 5, old_topic);  // Queued in the session for the old filter.
  auto source = start(new_topic);
  ASSERT_TRUE(source);
  Publish(5, 7, old_topic);  // After the unsubscribe: not sent at all.
  Publish(100, 3, new_topic);
  EXPECT_EQ(Payloads(ReceiveAll(*source, 3, true)), Expected(100, 3));
  EXPECT_EQ(source->left_out(), 5u);
  // Once the broker confirmed the unsubscribe, the file names the new filter alone.
  std::string filters;
  for (int i = 0; i < 100 && filters != new_topic + "\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    filters = ReadWholeFile(record, 1000).value_or("");
  }
  EXPECT_EQ(filters, new_topic + "\n");
}

// Without the file (another machine, a state directory wiped), the old filter is found by its
// messages: each is left out, and its topic unsubscribed.
TEST_F(MqttTest, AnOldSubscriptionWithoutItsFileIsEndedByItsFirstMessage) {
  const std::string old_topic = topic_ + "/old";
  const std::string new_topic = topic_ + "/new";
  const auto start = [&](const std::string& topic) {
    auto source = Source::Start(SourceOptions{.connection = Connection("ingest-" + topic_, topic)});
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? std::move(*source) : nullptr;
  };
  start(old_topic).reset();
  Publish(0, 5, old_topic);
  auto source = start(new_topic);
  ASSERT_TRUE(source);
  Publish(100, 1, new_topic);
  EXPECT_EQ(Payloads(ReceiveAll(*source, 1, true)), Expected(100, 1));
  EXPECT_EQ(source->left_out(), 5u);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(500));  // The UNSUBSCRIBE written with the PUBACKs.
  Publish(5, 7, old_topic);             // Its topic unsubscribed by now: not sent.
  Publish(101, 2, new_topic);
  EXPECT_EQ(Payloads(ReceiveAll(*source, 2, true)), Expected(101, 2));
  EXPECT_EQ(source->left_out(), 5u);
}

// A shared subscription's messages are its filter's: none is taken for a topic not asked for.
TEST_F(MqttTest, ASharedSubscriptionReceivesItsFiltersMessages) {
  auto source = Source::Start(
      SourceOptions{.connection = Connection("ingest-" + topic_, "$share/workers/" + topic_)});
  ASSERT_TRUE(source.ok()) << source.status();
  Publish(0, 20);
  EXPECT_EQ(Payloads(ReceiveAll(**source, 20, true)), Expected(0, 20));
  EXPECT_EQ((*source)->left_out(), 0u);
}

TEST_F(MqttTest, ReceivesWhatIsPublished) {
  auto source = StartSource();
  ASSERT_TRUE(source);
  Publish(0, 2000);
  const auto messages = ReceiveAll(*source, 2000, true);
  EXPECT_EQ(Payloads(messages), Expected(0, 2000));
  EXPECT_EQ(messages.size(), 2000u);
  // A bad message is known by its topic and bytes (MQTT has no message id).
  EXPECT_EQ(messages[0].message_id, ContentMessageId(topic_, messages[0].payload));
  EXPECT_EQ(source->Name(), fmt::format("mqtt://127.0.0.1:{}/{}", broker_.port(), topic_));
}

// The guarantee: what the runner did not acknowledge, the broker has not had acknowledged, so
// the same session gets it again after the client is gone (a kill -9 included: no PUBACK was
// written).
TEST_F(MqttTest, WhatWasNotAcknowledgedComesAgainToTheSession) {
  auto first = StartSource();
  ASSERT_TRUE(first);
  Publish(0, 300);
  const auto unacknowledged = ReceiveAll(*first, 300, false);
  ASSERT_EQ(unacknowledged.size(), 300u);
  // Even most of them acknowledged: the window is acknowledged only as a whole.
  std::vector<std::string> most;
  for (std::size_t i = 0; i < 299; ++i) most.push_back(unacknowledged[i].ack_id);
  ASSERT_TRUE(first->Ack(most).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  first.reset();

  auto second = StartSource();
  ASSERT_TRUE(second);
  EXPECT_EQ(Payloads(ReceiveAll(*second, 300, true)), Expected(0, 300));
  second->StopReceiving();
  second->Close();

  // Acknowledged and closed: nothing comes again, and what is new does.
  auto third = StartSource();
  ASSERT_TRUE(third);
  Publish(300, 1);
  const auto after = ReceiveAll(*third, 1, true);
  EXPECT_EQ(Payloads(after), Expected(300, 1));
  auto more = third->Receive(10);
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(more->messages.empty());
}

// The broker keeps what comes while the session is away, beyond mosquitto's default of 1000
// queued messages (docs/mqtt.md), and sends it in windows of the Receive Maximum.
TEST_F(MqttTest, WhatCameWhileAwayArrivesInWindows) {
  StartSource()->Close();  // The session and its subscription exist from here on.
  Publish(0, 5000);
  auto source = StartSource(/*receive_maximum=*/200);
  ASSERT_TRUE(source);
  const auto messages = ReceiveAll(*source, 5000, true);
  EXPECT_EQ(Payloads(messages), Expected(0, 5000));
}

TEST_F(MqttTest, AHandedBackMessageComesAgainAfterTheDelay) {
  auto source = StartSource();
  ASSERT_TRUE(source);
  Publish(0, 10);
  auto messages = ReceiveAll(*source, 10, false);
  ASSERT_EQ(messages.size(), 10u);
  std::vector<std::string> ids;
  for (const auto& message : messages) ids.push_back(message.ack_id);
  const auto handed_back = std::chrono::steady_clock::now();
  ASSERT_TRUE(source->Nack(ids, 300 * kMicrosPerMilli).ok());
  const auto again = ReceiveAll(*source, 10, true);
  EXPECT_GE(std::chrono::steady_clock::now() - handed_back, std::chrono::milliseconds(300));
  EXPECT_EQ(Payloads(again), Expected(0, 10));
}

TEST_F(MqttTest, StoppedReceivingEndsOnceTheReceivedAreHandedOut) {
  auto source = StartSource();
  ASSERT_TRUE(source);
  Publish(0, 5);
  const auto messages = ReceiveAll(*source, 5, true);
  source->StopReceiving();
  Publish(5, 5);  // Not taken in.
  auto received = source->Receive(10);
  ASSERT_TRUE(received.ok());
  EXPECT_TRUE(received->exhausted);
  EXPECT_TRUE(received->messages.empty());
  source->Close();
  auto next = StartSource();
  EXPECT_EQ(Payloads(ReceiveAll(*next, 5, true)), Expected(5, 5));
}

// A broker restart costs a reconnect: the source comes back to its session, the publisher sends
// what it took while the broker was away.
TEST_F(MqttTest, ABrokerRestartCostsAReconnectAndNothingElse) {
  std::vector<std::string> log;
  std::mutex log_mutex;
  auto source = Source::Start(SourceOptions{.connection = Connection("ingest-" + topic_),
                                            .log = [&](const std::string& line) {
                                              std::lock_guard lock(log_mutex);
                                              log.push_back(line);
                                            }});
  ASSERT_TRUE(source.ok()) << source.status();
  auto publisher = Publisher::Start(PublisherOptions{.connection = Connection()});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE((*publisher)->Publish(fmt::format("message {}", i)).ok());
  ASSERT_TRUE((*publisher)->Flush().ok());
  EXPECT_EQ(Payloads(ReceiveAll(**source, 100, true)), Expected(0, 100));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // The PUBACKs written.

  broker_.Restart([&] {
    for (int i = 100; i < 200; ++i)
      EXPECT_TRUE((*publisher)->Publish(fmt::format("message {}", i)).ok());
  });
  ASSERT_TRUE(broker_.ready()) << broker_.error();
  ASSERT_TRUE((*publisher)->Flush().ok());
  EXPECT_EQ(Payloads(ReceiveAll(**source, 100, true)), Expected(100, 100));
  std::lock_guard lock(log_mutex);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("connected again"), std::string::npos) << log.back();
}

TEST_F(MqttTest, NoBrokerThereIsAClearError) {
  const int port = testing_support::FreeLoopbackPort();
  auto source = Source::Start(SourceOptions{
      .connection = {.endpoint = *ParseEndpoint(fmt::format("mqtt://127.0.0.1:{}/t", port)),
                     .client_id = "x"}});
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find(
                fmt::format("cannot connect to the MQTT broker at 127.0.0.1:{}", port)),
            std::string::npos)
      << source.status();
  auto without_id = Source::Start(SourceOptions{.connection = Connection()});
  EXPECT_TRUE(absl::IsInvalidArgument(without_id.status())) << without_id.status();
  auto to_filter = Publisher::Start(
      PublisherOptions{.connection = {.endpoint = *ParseEndpoint(broker_.Url("a/#"))}});
  EXPECT_NE(to_filter.status().message().find("+ and # are for subscribing"), std::string::npos)
      << to_filter.status();
}

TEST(MqttCredentials, AWrongPasswordIsRefusedAndTheRightOneTaken) {
  MosquittoBroker broker({.username = "sensor", .password = "right"});
  REQUIRE_MOSQUITTO(broker);
  auto endpoint = *ParseEndpoint(broker.Url("t"));
  auto wrong = Source::Start(SourceOptions{
      .connection = {
          .endpoint = endpoint, .client_id = "c", .username = "sensor", .password = "wrong"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(wrong.status()) || absl::IsPermissionDenied(wrong.status()))
      << wrong.status();
  EXPECT_NE(wrong.status().message().find("refused the connection"), std::string::npos)
      << wrong.status();
  auto publisher = Publisher::Start(PublisherOptions{.connection = {.endpoint = endpoint}});
  EXPECT_FALSE(publisher.ok());
  endpoint.username = "sensor";  // From the URL: mqtt://sensor:right@…
  endpoint.password = "right";
  auto right = Source::Start(SourceOptions{.connection = {.endpoint = endpoint, .client_id = "c"}});
  EXPECT_TRUE(right.ok()) << right.status();
}

// QoS 0 loses messages: a broker that grants no more fails the job, saying so.
TEST(MqttQos, ABrokerThatGrantsOnlyQos0IsRefused) {
  MosquittoBroker broker({.max_qos = 0});
  REQUIRE_MOSQUITTO(broker);
  auto source = Source::Start(
      SourceOptions{.connection = {.endpoint = *ParseEndpoint(broker.Url("t")), .client_id = "c"}});
  ASSERT_FALSE(source.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(source.status())) << source.status();
  EXPECT_NE(source.status().message().find("max_qos"), std::string::npos) << source.status();
}

TEST(MqttTls, TrustsTheGivenCaAndRefusesAnUnknownCertificate) {
  MosquittoBroker broker({.tls = true});
  REQUIRE_MOSQUITTO(broker);
  const auto endpoint = *ParseEndpoint(broker.Url("secure"));
  ASSERT_TRUE(endpoint.tls);
  auto untrusted =
      Source::Start(SourceOptions{.connection = {.endpoint = endpoint, .client_id = "c"}});
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(untrusted.status().message().find("--mqtt-cafile"), std::string::npos)
      << untrusted.status();

  const ConnectionOptions trusted{
      .endpoint = endpoint, .client_id = "c", .ca_file = broker.ca_file()};
  auto source = Source::Start(SourceOptions{.connection = trusted});
  ASSERT_TRUE(source.ok()) << source.status();
  auto publisher = Publisher::Start(
      PublisherOptions{.connection = {.endpoint = endpoint, .ca_file = broker.ca_file()}});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  ASSERT_TRUE((*publisher)->Publish("over TLS").ok());
  ASSERT_TRUE((*publisher)->Flush().ok());
  std::vector<SourceMessage> received;
  for (int i = 0; i < 50 && received.empty(); ++i) received = (*source)->Receive(10)->messages;
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].payload, "over TLS");
}

}  // namespace
}  // namespace bikestream::mqtt
