// The push endpoint as an event source, without the emulator: a request is answered 204 only
// once its message is acknowledged, 503 when it is handed back, and a stopped endpoint takes
// nothing new in.
#include "pubsub/push_source.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <future>

#include "pubsub/wire.h"

namespace bikestream::pubsub {
namespace {

std::string Envelope(const std::string& id, const std::string& data) {
  return R"({"message":{"data":")" + EncodeMessageData(data) + R"(","messageId":")" + id +
         R"("},"subscription":"projects/p/subscriptions/s"})";
}

class PushSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = PushSource::Start({.listen = "127.0.0.1:0", .token = "t"});
    ASSERT_TRUE(started.ok()) << started.status();
    source_ = std::move(*started);
  }
  // Sends a push request on its own thread; the future holds the reply's status.
  std::future<int> Push(const std::string& body, const std::string& token = "t",
                        const std::string& content_type = "application/json") {
    return std::async(std::launch::async, [this, body, token, content_type] {
      httplib::Client client("http://" + source_->address());
      client.set_read_timeout(10);
      auto reply = client.Post("/push?token=" + token, body, content_type);
      return reply ? reply->status : -1;
    });
  }
  // Receives until `count` messages came (each Receive waits briefly).
  std::vector<SourceMessage> ReceiveAll(std::size_t count) {
    std::vector<SourceMessage> all;
    for (int tries = 0; all.size() < count && tries < 200; ++tries) {
      auto received = source_->Receive(count - all.size());
      EXPECT_TRUE(received.ok());
      for (auto& m : received->messages) all.push_back(std::move(m));
    }
    return all;
  }
  std::unique_ptr<PushSource> source_;
};

TEST_F(PushSourceTest, AnswersOnlyOnceTheMessageIsAcknowledgedOrHandedBack) {
  auto first = Push(Envelope("1", "hello"));
  auto second = Push(Envelope("2", "world"));
  auto messages = ReceiveAll(2);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  for (const auto& m : messages) {
    EXPECT_EQ(m.origin, "pubsub:projects/p/subscriptions/s");
    ASSERT_TRUE(m.message_id == "1" || m.message_id == "2");
    EXPECT_EQ(m.payload, m.message_id == "1" ? "hello" : "world");
    if (m.message_id == "1") {
      ASSERT_TRUE(source_->Ack({m.ack_id}).ok());
    } else {
      ASSERT_TRUE(source_->Nack({m.ack_id}, 0).ok());
    }
  }
  EXPECT_EQ(first.get(), 204);
  EXPECT_EQ(second.get(), 503);
}

TEST_F(PushSourceTest, RefusesAWrongTokenAndWhatIsNotAnEnvelope) {
  EXPECT_EQ(Push(Envelope("1", "x"), "guess").get(), 401);
  EXPECT_EQ(Push("").get(), 400);
  EXPECT_EQ(Push("{}").get(), 400);
}

TEST_F(PushSourceTest, TheBodyIsJudgedNotTheContentType) {
  // cpp-httplib limits form bodies to 8 KiB; a push is an envelope whatever its header says.
  const std::string data(20'000, 'x');
  auto pushed = Push(Envelope("big", data), "t", "application/x-www-form-urlencoded");
  auto messages = ReceiveAll(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].payload, data);
  ASSERT_TRUE(source_->Ack({messages[0].ack_id}).ok());
  EXPECT_EQ(pushed.get(), 204);
}

TEST_F(PushSourceTest, AfterStopReceivingItIsExhaustedAndWhatItReceivedIsStillAnswered) {
  auto pending = Push(Envelope("1", "x"));
  auto messages = ReceiveAll(1);
  ASSERT_EQ(messages.size(), 1u);
  source_->StopReceiving();
  auto last = source_->Receive(10);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->exhausted);
  EXPECT_TRUE(last->messages.empty());
  ASSERT_TRUE(source_->Ack({messages[0].ack_id}).ok());
  EXPECT_EQ(pending.get(), 204);
}

TEST_F(PushSourceTest, CloseAnswersWhatWasNeverAcknowledged) {
  auto pending = Push(Envelope("1", "x"));
  ASSERT_EQ(ReceiveAll(1).size(), 1u);
  source_->Close();
  EXPECT_EQ(pending.get(), 503);
}

}  // namespace
}  // namespace bikestream::pubsub
