// Pub/Sub's wire formats: message data and push envelopes.
#include "pubsub/wire.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

namespace bikestream::pubsub {
namespace {

TEST(ResourceNames, AcceptsWhatPubsubAcceptsAndNamesTheFlagOfWhatItRefuses) {
  EXPECT_TRUE(ValidateResourceNames("demo-project", "bike-events", "bike-events-sub").ok());
  EXPECT_TRUE(ValidateResourceNames("example.com:my-project", "a.b_c~d+e", "").ok());
  EXPECT_TRUE(ValidateResourceNames("demo", "", "").ok());
  for (auto [project, topic, subscription, flag] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"de mo/../x", "", "", "--project"},
           {"Demo", "", "", "--project"},
           {"1demo", "", "", "--project"},
           {"demo-", "", "", "--project"},
           {"demo", "ab", "", "--topic"},
           {"demo", "a/../b", "", "--topic"},
           {"demo", "goog-x", "", "--topic"},
           {"demo", "", "sub scription", "--subscription"},
           {"demo", "", "9sub", "--subscription"},
           {"demo", std::string(256, 't'), "", "--topic"},
           {"demo", "a%2Fb", "", "--topic"}}) {
    auto status = ValidateResourceNames(project, topic, subscription);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << project << " " << topic << " " << subscription;
    EXPECT_NE(status.message().find(flag), std::string::npos) << status;
  }
}

TEST(MessageData, RoundTripsEveryLengthAndRejectsGarbage) {
  for (const std::string& data :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto decoded = DecodeMessageData(EncodeMessageData(data));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, data);
  }
  EXPECT_EQ(EncodeMessageData("hello"), "aGVsbG8=");
  EXPECT_FALSE(DecodeMessageData("abc").ok());
  EXPECT_FALSE(DecodeMessageData("a!c=").ok());
}

TEST(PushEnvelope, ReadsTheMessageAndItsSubscription) {
  auto pushed = ParsePushEnvelope(
      R"({"message":{"data":"aGVsbG8=","messageId":"42","publishTime":"2025-10-18T16:24:11Z"},)"
      R"("subscription":"projects/p/subscriptions/s"})");
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->payload, "hello");
  EXPECT_EQ(pushed->message_id, "42");
  EXPECT_EQ(pushed->subscription, "projects/p/subscriptions/s");
  EXPECT_EQ(pushed->publish_time, *ParseRfc3339("2025-10-18T16:24:11Z"));
}

TEST(PushEnvelope, KeepsDataThatIsNotBase64AsSent) {
  auto pushed = ParsePushEnvelope(R"({"message":{"data":"not base64!","message_id":"7"}})");
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->payload, "not base64!");
  EXPECT_EQ(pushed->message_id, "7");
  EXPECT_EQ(pushed->publish_time, 0);
}

TEST(PushEnvelope, RefusesWhatIsNotAnEnvelope) {
  for (const char* body : {"", "[]", R"({"message":"x"})", R"({"message":{"data":"aGk="}})"}) {
    EXPECT_EQ(ParsePushEnvelope(body).status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

}  // namespace
}  // namespace bikestream::pubsub
