// A pull whose reply is past its bound (messages of megabytes) asks for fewer messages, rather
// than failing the same way for ever.
#include "pubsub/pull_source.h"

#include <gtest/gtest.h>

#include "support/scripted_pubsub.h"

namespace bikestream::pubsub {
namespace {

TEST(PullSource, AReplyTooLargeToReadIsAskedForAgainWithFewerMessages) {
  auto connection = std::make_unique<testing_support::ScriptedConnection>();
  std::vector<int> asked;
  connection->pull = [&](int max_messages) -> absl::StatusOr<std::vector<ReceivedMessage>> {
    asked.push_back(max_messages);
    if (max_messages > 200)
      return absl::OutOfRangeError("POST …:pull: the reply is larger than 256 MiB");
    return std::vector<ReceivedMessage>(std::size_t(max_messages), ReceivedMessage{.ack_id = "a"});
  };
  PullSource source(std::move(connection), PullSourceOptions{.project = "p", .subscription = "s"});
  std::size_t received = 0;
  for (int i = 0; i < 5 && received == 0; ++i) {
    auto batch = source.Receive(1000);
    ASSERT_TRUE(batch.ok()) << batch.status();
    received = batch->messages.size();
  }
  EXPECT_EQ(asked, (std::vector<int>{1000, 500, 250, 125}));
  EXPECT_EQ(received, 125u);
  // Many pulls that fit later, it asks for more again.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(source.Receive(1000).ok());
  EXPECT_EQ(asked.back(), 250);
}

}  // namespace
}  // namespace bikestream::pubsub
