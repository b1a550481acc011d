// The poller over a live feed (a loopback server serving the Oslo week one snapshot after
// another, with faults) and over the recorded file: the events are the changes computed
// independently, through errors, restarts and failed hand-offs.
#include "gbfs/feed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/file.h"
#include "common/limits.h"
#include "gbfs/discovery.h"
#include "gbfs/poller.h"
#include "support/fake_clock.h"
#include "support/gbfs_feed_server.h"
#include "support/listener.h"
#include "support/loopback_server.h"
#include "support/oslo_week.h"

namespace bikestream::gbfs {
namespace {

using testing_support::Change;
using testing_support::ChangeOf;
using testing_support::ExpectedChanges;
using testing_support::FakeClock;
using testing_support::GbfsFeedServer;
using testing_support::OsloSnapshots;

constexpr TimestampMicros kFirstSnapshot = 1728259785LL * kMicrosPerSecond;  // 2024-10-07T00:09:45Z
// A clock after the week, as every real run of a poller over it has: a poller leaves out a
// snapshot dated past its clock (a feed's clock gone wrong).
constexpr TimestampMicros kAfterTheWeek = kFirstSnapshot + 8 * 24 * kMicrosPerHour;

// What a poller handed on, and the problems it reported.
struct Collected {
  std::vector<Change> changes;
  std::vector<std::string> reports;
  HandOff hand_off() {
    return [this](const std::vector<Event>& events) {
      for (const Event& event : events) changes.push_back(ChangeOf(event));
      return absl::OkStatus();
    };
  }
  std::function<void(const std::string&)> report() {
    return [this](const std::string& line) { reports.push_back(line); };
  }
  bool Reported(std::string_view words) const {
    return std::any_of(reports.begin(), reports.end(), [&](const std::string& line) {
      return line.find(words) != std::string::npos;
    });
  }
};

// Leaves `field` out of the first station of `snapshot`.
std::string WithoutField(const std::string& snapshot, const std::vector<std::string>& fields) {
  nlohmann::json document = nlohmann::json::parse(snapshot);
  for (const std::string& field : fields) document["data"]["stations"][0].erase(field);
  return document.dump();
}

TEST(LiveFeed, EventsAreTheChangesComputedIndependentlyThroughAFaultyFeed) {
  auto snapshots = testing_support::FirstOsloSnapshots(160);
  snapshots[10] = WithoutField(snapshots[10], {"num_bikes_available", "num_vehicles_available"});
  snapshots[20] = WithoutField(snapshots[20], {"last_reported"});
  // Faults on even requests only: each snapshot is still served once.
  // And the first gbfs.json is an error page served with 200.
  GbfsFeedServer server(snapshots,
                        {{6, GbfsFeedServer::Fault::kServerError},
                         {30, GbfsFeedServer::Fault::kTruncated},
                         {50, GbfsFeedServer::Fault::kNotJson}},
                        /*bad_discoveries=*/1);
  FakeClock clock(kAfterTheWeek, FakeClock::Mode::kJumping);
  http::HttpClient http(
      {.timeout = std::chrono::seconds(10), .max_reply_bytes = limits::kFeedDocument});
  LiveFeed feed({.url = server.discovery_url()}, http, clock);
  Collected collected;
  const TimestampMicros last_updated = ParseStationStatus(snapshots.back())->last_updated;
  bool handed_last = false;
  auto poller =
      Poller::Open("oslo", collected.hand_off(), clock,
                   {.report = collected.report(),
                    .on_snapshot = [&](const StationStatus& s, std::size_t, const PollerStats&) {
                      handed_last = s.last_updated == last_updated;
                    }});
  ASSERT_TRUE(poller.ok()) << poller.status();
  ASSERT_TRUE(poller->Run(feed, [&] { return handed_last; }).ok());

  EXPECT_EQ(collected.changes, ExpectedChanges(snapshots, "oslo"));
  EXPECT_EQ(poller->stats().snapshots, snapshots.size());
  EXPECT_EQ(poller->stats().bad_snapshots, 4u);
  EXPECT_EQ(poller->stats().station_problems, 2u);
  EXPECT_TRUE(collected.Reported("HTTP 500")) << ::testing::PrintToString(collected.reports);
  EXPECT_TRUE(collected.Reported(server.discovery_url() + ": not JSON"));
  EXPECT_TRUE(collected.Reported(server.status_url() + ": not JSON"));
  EXPECT_TRUE(collected.Reported("no last_reported"));
  EXPECT_TRUE(collected.Reported("no num_bikes_available or num_vehicles_available"));
  EXPECT_EQ(feed.urls().station_status, server.status_url());
  // Never more often than --min-interval (5 s), and after a failure longer still.
  for (TimestampMicros sleep : clock.sleeps()) EXPECT_GE(sleep, 5 * kMicrosPerSecond);
}

TEST(LiveFeed, AStationStatusUrlIsReadWithoutDiscovery) {
  const auto snapshots = OsloSnapshots();
  const std::vector<std::string> first(snapshots.begin(), snapshots.begin() + 20);
  GbfsFeedServer server(first);
  FakeClock clock(kAfterTheWeek, FakeClock::Mode::kJumping);
  http::HttpClient http(
      {.timeout = std::chrono::seconds(10), .max_reply_bytes = limits::kFeedDocument});
  LiveFeed feed({.url = server.status_url(), .min_interval = kMicrosPerSecond / 2}, http, clock);
  Collected collected;
  auto poller = Poller::Open("oslo", collected.hand_off(), clock, {.report = collected.report()});
  ASSERT_TRUE(poller.ok());
  ASSERT_TRUE(poller->Run(feed, [&] { return server.served_all(); }).ok());
  EXPECT_EQ(collected.changes, ExpectedChanges(first, "oslo"));
  EXPECT_TRUE(collected.reports.empty());
}

TEST(LiveFeed, ReadsStationInformationFromDiscoveryAtFirstThenEveryInterval) {
  GbfsFeedServer server(testing_support::FirstOsloSnapshots(40));
  server.ServeStationInformation(
      ReadWholeFile(testing_support::kOsloStationInformation, limits::kStationInformationFile)
          .value(),
      /*failures=*/1);
  FakeClock clock(kFirstSnapshot, FakeClock::Mode::kJumping);
  http::HttpClient http(
      {.timeout = std::chrono::seconds(10), .max_reply_bytes = limits::kFeedDocument});
  std::vector<TimestampMicros> read_at;
  std::vector<std::string> failures;
  std::size_t stations = 0;
  LiveFeed feed({.url = server.discovery_url(),
                 .on_stations =
                     [&](absl::StatusOr<StationInformation> information) {
                       if (!information.ok()) {
                         failures.emplace_back(information.status().message());
                         return;
                       }
                       read_at.push_back(clock.Now());
                       stations = information->stations.size();
                     },
                 .station_information_interval = 2 * 60 * kMicrosPerSecond},
                http, clock);
  ASSERT_TRUE(feed.ForEachSnapshot([](absl::StatusOr<StationStatus>) { return true; },
                                   [&] { return server.served_all(); })
                  .ok());
  EXPECT_EQ(feed.urls().station_information, server.information_url());
  ASSERT_EQ(failures.size(), 1u);  // The first read failed (a 503) and was tried again a minute on.
  EXPECT_NE(failures[0].find("HTTP 503"), std::string::npos) << failures[0];
  EXPECT_EQ(stations, 260u);
  // Read again every two minutes, not at every poll (some 80 of them).
  const DurationMicros elapsed = clock.Now() - kFirstSnapshot;
  ASSERT_GE(read_at.size(), 2u);
  EXPECT_LE(read_at.size(), std::size_t(elapsed / (2 * 60 * kMicrosPerSecond)) + 1);
  EXPECT_GE(read_at[0] - kFirstSnapshot, 60 * kMicrosPerSecond);
  for (std::size_t i = 1; i < read_at.size(); ++i)
    EXPECT_GE(read_at[i] - read_at[i - 1], 2 * 60 * kMicrosPerSecond);
  EXPECT_EQ(server.information_requests(), int(read_at.size() + failures.size()));
}

TEST(LiveFeed, AFeedThatIsDownIsPolledWithBackoffUntilItAnswers) {
  FakeClock clock(kFirstSnapshot, FakeClock::Mode::kJumping);
  http::HttpClient http(
      {.timeout = std::chrono::seconds(10), .max_reply_bytes = limits::kFeedDocument});
  LiveFeed feed({.url = "http://127.0.0.1:1/gbfs.json"}, http,
                clock);  // Nothing listens on port 1.
  int failures = 0;
  ASSERT_TRUE(feed.ForEachSnapshot(
                      [&](absl::StatusOr<StationStatus> snapshot) {
                        EXPECT_FALSE(snapshot.ok());
                        return ++failures < 12;
                      },
                      [] { return false; })
                  .ok());
  const auto& sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 11u);
  // The waits grow (jittered) up to the 5 minute cap: an hour down costs a few dozen polls.
  EXPECT_LE(*std::max_element(sleeps.begin(), sleeps.end()), 5 * 60 * kMicrosPerSecond);
  TimestampMicros total = 0;
  for (TimestampMicros sleep : sleeps) total += sleep;
  EXPECT_GT(total, 11 * 5 * kMicrosPerSecond);
}

// Two days of the week, as a recorded file of the test's own (ctest runs tests side by side).
class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override { testing_support::WriteSnapshotFile(snapshots_, file_); }
  void TearDown() override { std::filesystem::remove(file_); }
  const std::vector<std::string> snapshots_ = testing_support::FirstOsloSnapshots(150);
  const std::string name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const std::string file_ = ::testing::TempDir() + "/gbfs-two-days-" + name_ + ".jsonl";
};

TEST_F(PollerTest, ARestartFromItsStateAndAStopMidHandOffLoseNothingAndMintNoOtherIds) {
  const auto expected = ExpectedChanges(snapshots_, "oslo");
  const std::string state = ::testing::TempDir() + "/gbfs-" + name_ + ".state";
  std::filesystem::remove(state);
  FakeClock clock(kAfterTheWeek, FakeClock::Mode::kJumping);
  Collected collected;

  // Run 1: stopped after 70 snapshots.
  {
    std::size_t seen = 0;
    auto poller = Poller::Open(
        "oslo", collected.hand_off(), clock,
        {.state_path = state,
         .on_snapshot = [&](const StationStatus&, std::size_t, const PollerStats&) { ++seen; }});
    ASSERT_TRUE(poller.ok());
    ReplayFeed feed(file_, 0, clock);
    ASSERT_TRUE(poller->Run(feed, [&] { return seen >= 70; }).ok());
  }
  // Run 2: its hand-off fails for good on the first snapshot with changes, and it is stopped.
  {
    bool failed = false;
    auto poller = Poller::Open("oslo",
                               [&](const std::vector<Event>& events) {
                                 if (events.empty()) return absl::OkStatus();
                                 failed = true;
                                 return absl::UnavailableError("broker down");
                               },
                               clock, {.state_path = state, .report = [](const std::string&) {}});
    ASSERT_TRUE(poller.ok());
    EXPECT_GE(poller->stations(), 261u);  // 261 in each snapshot, a few more over the days.
    ReplayFeed feed(file_, 0, clock);
    ASSERT_TRUE(poller->Run(feed, [&] { return failed; }).ok());
  }
  // Run 3: hands on what run 2 could not, then the rest.
  auto poller = Poller::Open("oslo", collected.hand_off(), clock, {.state_path = state});
  ASSERT_TRUE(poller.ok());
  ReplayFeed feed(file_, 0, clock);
  ASSERT_TRUE(poller->Run(feed, [] { return false; }).ok());
  EXPECT_GT(poller->stats().resent, 0u);
  EXPECT_EQ(collected.changes, expected);
}

TEST_F(PollerTest, AFailedHandOffIsRetriedWithTheSameEvents) {
  FakeClock clock(kAfterTheWeek, FakeClock::Mode::kJumping);
  Collected collected;
  int calls = 0;
  auto poller = Poller::Open("oslo",
                             [&](const std::vector<Event>& events) {
                               if (++calls % 3 == 1)
                                 return absl::UnavailableError("topic not reachable");
                               return collected.hand_off()(events);
                             },
                             clock, {.report = collected.report()});
  ASSERT_TRUE(poller.ok());
  ReplayFeed feed(file_, 0, clock);
  ASSERT_TRUE(poller->Run(feed, [] { return false; }).ok());
  EXPECT_EQ(collected.changes, ExpectedChanges(snapshots_, "oslo"));
  EXPECT_TRUE(collected.Reported("could not hand on"));
  EXPECT_TRUE(collected.Reported("topic not reachable"));
}

// `gbfs --to warehouse`: the hand-off only stages, a flush commits, and a crash loses what was
// staged since the last flush. Here the crash comes in the middle of a flush that precedes a
// save: as a save comes only after its flush succeeded, the state on disk is the one before,
// and a restart still ends with every change (some twice: the ids are the same, the warehouse
// stores them once). A save before its flush would lose the changes staged in between.
TEST_F(PollerTest, ACrashThatLosesWhatWasStagedSinceTheLastFlushLosesNoChange) {
  const auto expected = ExpectedChanges(snapshots_, "oslo");
  const std::string state = ::testing::TempDir() + "/gbfs-" + name_ + ".state";
  std::filesystem::remove(state);
  FakeClock clock(kAfterTheWeek, FakeClock::Mode::kJumping);
  Collected committed;
  std::vector<Event> staged;
  int flushes = 0;
  auto stage = [&](const std::vector<Event>& events) {
    staged.insert(staged.end(), events.begin(), events.end());
    return absl::OkStatus();
  };
  auto flush = [&] {
    ++flushes;
    absl::Status done = committed.hand_off()(staged);
    staged.clear();
    return done;
  };
  {
    bool crashed = false;
    auto poller =
        Poller::Open("oslo", stage, clock,
                     {.state_path = state,
                      .state_interval = 10 * kMicrosPerSecond,
                      .flush =
                          [&] {
                            crashed = crashed || flushes == 7;  // The eighth flush never completes.
                            return crashed ? absl::AbortedError("crashed") : flush();
                          },
                      .report = [](const std::string&) {},
                      .on_snapshot =
                          [&](const StationStatus&, std::size_t, const PollerStats&) {
                            clock.Advance(kMicrosPerSecond);  // A save every ten snapshots.
                          }});
    ASSERT_TRUE(poller.ok());
    ReplayFeed feed(file_, 0, clock);
    ASSERT_TRUE(poller->Run(feed, [&] { return crashed; }).ok());
  }
  EXPECT_EQ(flushes, 7);
  ASSERT_FALSE(staged.empty());  // The crash lost these.
  staged.clear();
  auto poller = Poller::Open("oslo", stage, clock, {.state_path = state, .flush = flush});
  ASSERT_TRUE(poller.ok());
  ReplayFeed feed(file_, 0, clock);
  ASSERT_TRUE(poller->Run(feed, [] { return false; }).ok());
  EXPECT_TRUE(staged.empty());  // The end of the run flushed.
  EXPECT_EQ(std::set<Change>(committed.changes.begin(), committed.changes.end()),
            std::set<Change>(expected.begin(), expected.end()));
}

// A snapshot dated past the poller's clock (a feed's clock gone wrong, or a hostile one) would
// make every station's report one no later real report could follow: it is left out, and said.
TEST_F(PollerTest, ASnapshotDatedInTheFutureIsLeftOutAndNamed) {
  std::vector<std::string> snapshots(snapshots_.begin(), snapshots_.begin() + 20);
  nlohmann::json future = nlohmann::json::parse(snapshots[5]);
  future["last_updated"] = 253402300000LL;
  for (auto& station : future["data"]["stations"]) station["last_reported"] = 253402300000LL;
  std::vector<std::string> with_future = snapshots;
  with_future.insert(with_future.begin() + 6, future.dump());
  testing_support::WriteSnapshotFile(with_future, file_);
  FakeClock clock(kAfterTheWeek, FakeClock::Mode::kJumping);
  Collected collected;
  auto poller = Poller::Open("oslo", collected.hand_off(), clock, {.report = collected.report()});
  ASSERT_TRUE(poller.ok());
  ReplayFeed feed(file_, 0, clock);
  ASSERT_TRUE(poller->Run(feed, [] { return false; }).ok());
  EXPECT_EQ(collected.changes, ExpectedChanges(snapshots, "oslo"));
  EXPECT_EQ(poller->stats().bad_snapshots, 1u);
  EXPECT_TRUE(
      collected.Reported("a snapshot of 9999-12-31T23:46:40Z is dated in the future: left out"))
      << ::testing::PrintToString(collected.reports);
}

TEST(ReplayFeed, SpeedupPacesBySnapshotTime) {
  const auto snapshots = OsloSnapshots();
  FakeClock clock(0, FakeClock::Mode::kJumping);
  ReplayFeed feed(testing_support::kOsloWeek, 3600, clock);
  std::vector<TimestampMicros> updated;
  std::vector<TimestampMicros> at;
  ASSERT_TRUE(feed.ForEachSnapshot(
                      [&](absl::StatusOr<StationStatus> snapshot) {
                        updated.push_back(snapshot->last_updated);
                        at.push_back(clock.Now());
                        return true;
                      },
                      [] { return false; })
                  .ok());
  ASSERT_EQ(updated.size(), snapshots.size());
  for (std::size_t i = 0; i < updated.size(); ++i) {
    EXPECT_NEAR(double(at[i]), double(updated[i] - updated[0]) / 3600, 1.0) << i;
  }
}

TEST(Discovery, FindsStationStatusAndInformationIn2xAnd30) {
  auto v2 = ParseDiscovery(
      R"({"data":{"nb":{"feeds":[{"name":"station_status","url":"https://x/nb/ss.json"}]},)"
      R"("en":{"feeds":[{"name":"station_information","url":"https://x/en/si.json"},)"
      R"({"name":"station_status","url":"https://x/en/ss.json"}]}}})");
  ASSERT_TRUE(v2.ok() && v2->has_value()) << v2.status();
  EXPECT_EQ((*v2)->station_status, "https://x/en/ss.json");
  EXPECT_EQ((*v2)->station_information, "https://x/en/si.json");
  auto v3 = ParseDiscovery(
      R"({"version":"3.0","data":{"feeds":[{"name":"station_status","url":"https://y/ss"}]}})");
  ASSERT_TRUE(v3.ok() && v3->has_value()) << v3.status();
  EXPECT_EQ((*v3)->station_status, "https://y/ss");
  EXPECT_EQ((*v3)->station_information, "");
  // A discovery document without station_status is one, and says what it lacks.
  EXPECT_NE(ParseDiscovery(R"({"data":{"feeds":[]}})").status().message().find("no station_status"),
            std::string::npos);
  // A feed itself is not one.
  auto feed = ParseDiscovery(OsloSnapshots().front());
  ASSERT_TRUE(feed.ok()) << feed.status();
  EXPECT_FALSE(feed->has_value());
  EXPECT_NE(ParseDiscovery(R"({"data":{"feeds":[{"name":"free_bike_status","url":"u"}]}})")
                .status()
                .message()
                .find("no station_status"),
            std::string::npos);
  EXPECT_FALSE(ParseDiscovery("<html>").ok());
}

// A gbfs.json chooses where its feeds are, not how they are read: http or https only, and https
// only for a feed asked for over https.
TEST(Discovery, AListedFeedIsReadOverHttpOrHttpsOnlyAndAnHttpsFeedsOverHttps) {
  EXPECT_TRUE(CheckListedUrl("https://x/gbfs.json", "station_status", "https://x/ss.json").ok());
  EXPECT_TRUE(CheckListedUrl("https://x/gbfs.json", "station_information", "").ok());
  EXPECT_TRUE(CheckListedUrl("http://x/gbfs.json", "station_status", "http://x/ss.json").ok());
  EXPECT_TRUE(CheckListedUrl("http://x/gbfs.json", "station_status", "HTTPS://x/ss.json").ok());
  for (const auto& [feed, listed] : std::vector<std::pair<std::string, std::string>>{
           {"https://x/gbfs.json", "http://x/ss.json"},
           {"http://x/gbfs.json", "gopher://127.0.0.1:6379/_INFO"},
           {"https://x/gbfs.json", "file:///etc/passwd"},
           {"http://x/gbfs.json", "ftp://x/ss.json"},
           {"http://x/gbfs.json", "/ss.json"}}) {
    const absl::Status refused = CheckListedUrl(feed, "station_status", listed);
    EXPECT_TRUE(absl::IsInvalidArgument(refused)) << feed << " " << listed;
    EXPECT_NE(refused.message().find("lists station_status at '" + listed + "': refused"),
              std::string::npos)
        << refused;
  }
}

// A live feed whose gbfs.json lists station_status at gopher:// is refused at every poll, and
// not a byte goes to the address it named.
TEST(LiveFeed, AFeedListedOverAnotherProtocolIsNeverRead) {
  testing_support::Listener gopher;
  testing_support::LoopbackServer server([&](httplib::Server& s) {
    s.Get("/gbfs.json", [&](const httplib::Request&, httplib::Response& response) {
      response.set_content(
          fmt::format(
              R"({{"data":{{"feeds":[{{"name":"station_status","url":"gopher://127.0.0.1:{}/_x"}}]}}}})",
              gopher.port()),
          "application/json");
    });
  });
  FakeClock clock(kAfterTheWeek, FakeClock::Mode::kJumping);
  http::HttpClient http(
      {.timeout = std::chrono::seconds(10), .max_reply_bytes = limits::kFeedDocument});
  LiveFeed feed({.url = server.url() + "/gbfs.json"}, http, clock);
  std::vector<std::string> errors;
  ASSERT_TRUE(feed.ForEachSnapshot(
                      [&](absl::StatusOr<StationStatus> snapshot) {
                        errors.emplace_back(snapshot.status().message());
                        return errors.size() < 3;
                      },
                      [] { return false; })
                  .ok());
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find("lists station_status at 'gopher://127.0.0.1:"), std::string::npos)
      << errors[0];
  EXPECT_FALSE(gopher.Connected());
}

}  // namespace
}  // namespace bikestream::gbfs
