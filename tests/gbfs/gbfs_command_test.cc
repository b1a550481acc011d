// `bikestream gbfs` end to end: the real binary polls a loopback feed serving the Oslo week;
// killed -9 at several points and restarted with its --state, it writes the same set of event
// ids as an uninterrupted run, and they are the changes computed independently.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <set>
#include <sstream>

#include "cli/cli_test_util.h"
#include "support/gbfs_feed_server.h"
#include "support/oslo_week.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::ReadFile;
using e2e::TempDir;
using e2e::WaitUntil;
using testing_support::GbfsFeedServer;

constexpr auto kPatience = std::chrono::seconds(60);

// The ids of the complete lines of `path` (a run killed mid-line leaves a partial last line).
void CollectIds(const std::string& path, std::set<std::string>* ids) {
  std::istringstream lines(ReadFile(path));
  for (std::string line; std::getline(lines, line);) {
    if (lines.eof()) break;  // No newline after it: cut short by the kill.
    const nlohmann::json event = nlohmann::json::parse(line);
    ids->insert(event["event_id"].get<std::string>());
  }
}

std::vector<std::string> GbfsArgs(const GbfsFeedServer& server, const std::string& state) {
  return {"gbfs", server.discovery_url(), "--system", "oslobysykkel", "--min-interval", "0.01", "--state", state};
}

// Waits until the feed has served its last snapshot and the poller has come back for more
// (so it has handed that one on), then stops it as a person would, with Ctrl-C.
void FinishRun(Child& child, const GbfsFeedServer& server) {
  ASSERT_TRUE(WaitUntil([&] { return server.served_all(); }, kPatience));
  const int after = server.requests() + 2;
  ASSERT_TRUE(WaitUntil([&] { return server.requests() >= after; }, kPatience));
  child.Signal(SIGINT);
  EXPECT_EQ(child.Wait(), 130);
}

std::set<std::string> ExpectedIds(const std::vector<std::string>& snapshots) {
  std::set<std::string> ids;
  for (const auto& change : testing_support::ExpectedChanges(snapshots, "oslobysykkel")) ids.insert(std::get<0>(change));
  return ids;
}

TEST(GbfsCommand, KilledAndRestartedItWritesTheSameIdsAsAnUninterruptedRun) {
  const auto week = testing_support::OsloSnapshots();
  const std::vector<std::string> snapshots(week.begin(), week.begin() + 90);
  const std::set<std::string> expected = ExpectedIds(snapshots);
  ASSERT_GT(expected.size(), 1000u);
  TempDir dir;

  std::set<std::string> uninterrupted;
  {
    GbfsFeedServer server(snapshots);
    Child child(GbfsArgs(server, dir / "uninterrupted.state"), dir / "uninterrupted.jsonl");
    FinishRun(child, server);
    CollectIds(dir / "uninterrupted.jsonl", &uninterrupted);
  }
  EXPECT_EQ(uninterrupted, expected);

  GbfsFeedServer server(snapshots);
  std::set<std::string> restarted;
  int run = 0;
  for (const int kill_at : {25, 70, 121}) {  // Requests: mid-feed, at odd and even points.
    const std::string out = dir / fmt::format("run{}.jsonl", run++);
    Child child(GbfsArgs(server, dir / "killed.state"), out);
    ASSERT_TRUE(WaitUntil([&] { return server.requests() >= kill_at; }, kPatience));
    child.Kill9();
    child.Wait();
    CollectIds(out, &restarted);
  }
  const std::string last = dir / "last.jsonl";
  Child child(GbfsArgs(server, dir / "killed.state"), last);
  FinishRun(child, server);
  CollectIds(last, &restarted);
  EXPECT_EQ(restarted, expected);
  EXPECT_NE(ReadFile(last + ".err").find("resuming from"), std::string::npos) << ReadFile(last + ".err");
}

// `| head`: once nobody reads the events, gbfs stops (a hand-off to a closed stdout cannot
// succeed by retrying) and says why.
TEST(GbfsCommand, StopsWhenItsReaderGoesAway) {
  TempDir dir;
  const std::string command = fmt::format(
      "timeout 60 bash -c '{} gbfs {} --system oslobysykkel 2>{} | head -1000 >/dev/null; echo ${{PIPESTATUS[0]}}' >{}",
      BIKESTREAM_BINARY, testing_support::kOsloWeek, dir / "gbfs.err", dir / "status");
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(ReadFile(dir / "status"), "1\n") << ReadFile(dir / "gbfs.err");
  EXPECT_NE(ReadFile(dir / "gbfs.err").find("could not write to stdout: Broken pipe"), std::string::npos)
      << ReadFile(dir / "gbfs.err");
}

TEST(GbfsCommand, ABadFeedArgumentSaysWhatToFix) {
  std::string err;
  EXPECT_EQ(e2e::RunBikestream({"gbfs", "/nonexistent/feed.jsonl", "--system", "oslo"}, nullptr, "/dev/null", &err), 1);
  EXPECT_NE(err.find("no such file; FEED is an http(s):// URL of gbfs.json"), std::string::npos) << err;
  EXPECT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslo bysykkel"}, nullptr, "/dev/null",
                               &err),
            1);
  EXPECT_NE(err.find("--system names the bike-share system"), std::string::npos) << err;
  EXPECT_EQ(e2e::RunBikestream({"gbfs", "http://127.0.0.1:1/gbfs.json", "--system", "oslo", "--speedup", "10"},
                               nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("--speedup paces a recorded file"), std::string::npos) << err;
}

TEST(GbfsCommand, AReplayOfTheWeekWritesEveryChange) {
  std::string out;
  std::string err;
  ASSERT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslobysykkel"}, &out, "/dev/null", &err),
            0)
      << err;
  std::set<std::string> ids;
  std::istringstream lines(out);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    ids.insert(nlohmann::json::parse(line)["event_id"].get<std::string>());
  }
  EXPECT_EQ(ids, ExpectedIds(testing_support::OsloSnapshots()));
  EXPECT_EQ(count, ids.size());
  EXPECT_NE(err.find("483 snapshots, 266 stations: 27001 events"), std::string::npos) << err;
}

}  // namespace
}  // namespace bikestream
