// The token cache, with a fetch of its own and a fake clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gcp/oauth.h"
#include "support/fake_clock.h"

namespace bikestream::gcp {
namespace {

using testing_support::FakeClock;

class CountingCredentials final : public CachingCredentials {
 public:
  CountingCredentials(Clock& clock, std::int64_t lifetime_seconds)
      : CachingCredentials(clock), lifetime_seconds_(lifetime_seconds) {}
  std::atomic<int> fetches = 0;
  std::atomic<bool> failing = false;
  std::chrono::milliseconds fetch_takes{0};

 protected:
  absl::StatusOr<FetchedToken> Fetch() override {
    std::this_thread::sleep_for(fetch_takes);
    const int n = ++fetches;
    if (failing) return absl::UnavailableError("token endpoint down");
    return FetchedToken{.access_token = "token-" + std::to_string(n),
                        .lifetime_seconds = lifetime_seconds_};
  }

 private:
  const std::int64_t lifetime_seconds_;
};

TEST(TokenCache, AnHoursTokenIsReplacedAMinuteBeforeItExpires) {
  FakeClock clock(1'000 * kMicrosPerSecond);
  CountingCredentials credentials(clock, 3600);
  EXPECT_EQ(*credentials.AccessToken(), "token-1");
  clock.Advance(3539 * kMicrosPerSecond);
  EXPECT_EQ(*credentials.AccessToken(), "token-1");
  clock.Advance(2 * kMicrosPerSecond);
  EXPECT_EQ(*credentials.AccessToken(), "token-2");
}

TEST(TokenCache, AFailedRefreshServesTheTokenAndPausesBeforeTryingAgain) {
  FakeClock clock(1'000 * kMicrosPerSecond);
  CountingCredentials credentials(clock, 100);
  EXPECT_EQ(*credentials.AccessToken(), "token-1");
  credentials.failing = true;
  clock.Advance(80 * kMicrosPerSecond);  // Past its refresh (at 75 s).
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*credentials.AccessToken(), "token-1");
  EXPECT_EQ(credentials.fetches, 2);  // One try, then a pause: not one per call.
  clock.Advance(6 * kMicrosPerSecond);
  EXPECT_EQ(*credentials.AccessToken(), "token-1");
  EXPECT_EQ(credentials.fetches, 3);
  clock.Advance(20 * kMicrosPerSecond);  // Expired.
  EXPECT_EQ(credentials.AccessToken().status().code(), absl::StatusCode::kUnavailable);
}

TEST(TokenCache, ConcurrentCallersAtRefreshTimeCauseOneFetch) {
  FakeClock clock(1'000 * kMicrosPerSecond);
  CountingCredentials credentials(clock, 3600);
  credentials.fetch_takes = std::chrono::milliseconds(50);
  std::vector<std::thread> callers;
  std::atomic<int> same = 0;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      if (*credentials.AccessToken() == "token-1") ++same;
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(credentials.fetches, 1);
  EXPECT_EQ(same, 8);
}

TEST(TokenCache, ARejectedTokenIsFetchedAgainAndAnotherTokenIsNotDropped) {
  FakeClock clock(1'000 * kMicrosPerSecond);
  CountingCredentials credentials(clock, 3600);
  EXPECT_EQ(*credentials.AccessToken(), "token-1");
  credentials.Reject("token-0");  // An older one: nothing to do.
  EXPECT_EQ(*credentials.AccessToken(), "token-1");
  credentials.Reject("token-1");
  EXPECT_EQ(*credentials.AccessToken(), "token-2");
}

TEST(ParseTokenReply, AnExpiryThatIsMissingOrOutOfRangeIsGooglesHour) {
  for (const char* reply :
       {R"({"access_token":"t"})", R"({"access_token":"t","expires_in":0})",
        R"({"access_token":"t","expires_in":-5})", R"({"access_token":"t","expires_in":"60"})",
        R"({"access_token":"t","expires_in":99999999999999})"}) {
    auto token = ParseTokenReply(reply, "test");
    ASSERT_TRUE(token.ok()) << reply;
    EXPECT_EQ(token->lifetime_seconds, 3600) << reply;
  }
  EXPECT_EQ(ParseTokenReply(R"({"access_token":"t","expires_in":59})", "test")->lifetime_seconds,
            59);
  EXPECT_EQ(ParseTokenReply(R"({"expires_in":59})", "test").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ParseTokenReply("<html>", "test").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace bikestream::gcp
