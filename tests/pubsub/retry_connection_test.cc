// The retry decorator over a scripted connection: which errors it retries and how often.
#include <gtest/gtest.h>

#include <deque>

#include "pubsub/pubsub.h"
#include "support/scripted_pubsub.h"

namespace bikestream::pubsub {
namespace {

using testing_support::ScriptedConnection;

const RetryPolicy kFast{
    .initial_backoff = kMicrosPerMilli, .max_backoff = 2 * kMicrosPerMilli, .max_attempts = 4};

TEST(RetryingConnection, RetriesTransientErrorsUntilSuccess) {
  auto scripted = std::make_unique<ScriptedConnection>(
      std::deque<absl::Status>{absl::UnavailableError("503"), absl::ResourceExhaustedError("429"),
                               absl::DeadlineExceededError("timeout")});
  auto* raw = scripted.get();
  auto retrying = MakeRetryingConnection(std::move(scripted), kFast);
  EXPECT_TRUE(retrying->GetTopic("p", "t").ok());
  EXPECT_EQ(raw->calls, 4);
}

TEST(RetryingConnection, GivesUpAfterMaxAttempts) {
  auto scripted = std::make_unique<ScriptedConnection>(
      std::deque<absl::Status>(10, absl::UnavailableError("still down")));
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
