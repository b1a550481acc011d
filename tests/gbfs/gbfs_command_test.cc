// `bikestream gbfs` end to end: the real binary polls a loopback feed serving the Oslo week;
// killed -9 at several points and restarted with its --state, it writes the same set of event
// ids as an uninterrupted run, and they are the changes computed independently. With
// --warehouse, the stations of Oslo's real station_information land in the stations table.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cli/cli_test_util.h"
#include "common/file.h"
#include "common/limits.h"
#include "support/gbfs_feed_server.h"
#include "support/loopback_server.h"
#include "support/oslo_week.h"
#include "warehouse/warehouse.h"

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
  return {"gbfs",           server.discovery_url(),
          "--system",       "oslobysykkel",
          "--min-interval", "0.01",
          "--state",        state};
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
  for (const auto& change : testing_support::ExpectedChanges(snapshots, "oslobysykkel"))
    ids.insert(std::get<0>(change));
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
  EXPECT_NE(ReadFile(last + ".err").find("resuming from"), std::string::npos)
      << ReadFile(last + ".err");
}

std::set<std::string> StoredIds(const std::string& url) {
  std::set<std::string> ids;
  auto warehouse = OpenWarehouse(url, {}, OpenMode::kMustExist);
  if (!warehouse.ok()) return ids;
  auto rows = (*warehouse)->Query("SELECT event_id FROM raw_events");
  if (!rows.ok()) return ids;
  for (const auto& row : rows->rows) ids.insert(row[0].text);
  return ids;
}

// --to warehouse commits in process, the state saved only once what was handed on before is
// committed: killed -9 mid-commit, mid-stage or mid-save, the table ends with each change once.
TEST(GbfsCommand, KilledAndRestartedIntoTheWarehouseItStoresEveryChangeOnce) {
  const auto week = testing_support::OsloSnapshots();
  const std::vector<std::string> snapshots(week.begin(), week.begin() + 90);
  TempDir dir;
  const std::string warehouse = "sqlite:" + dir / "oslo.db";
  GbfsFeedServer server(snapshots);
  auto args = [&] {
    std::vector<std::string> args = GbfsArgs(server, dir / "oslo.state");
    args.insert(args.end(), {"--to", "warehouse", "--warehouse", warehouse});
    return args;
  };
  for (const int kill_at : {25, 70, 121}) {
    Child child(args(), dir / "killed.out");
    ASSERT_TRUE(WaitUntil([&] { return server.requests() >= kill_at; }, kPatience));
    child.Kill9();
    child.Wait();
  }
  Child child(args(), dir / "last.out");
  FinishRun(child, server);
  const std::string err = ReadFile(dir / "last.out.err");
  EXPECT_EQ(StoredIds(warehouse), ExpectedIds(snapshots)) << err;
  EXPECT_NE(err.find("resuming from"), std::string::npos) << err;
  EXPECT_EQ(ReadFile(dir / "last.out"),
            "");  // Nothing on stdout: the events went to the warehouse.
}

// Two pollers on one --state would undo each other's saves: the second is refused.
TEST(GbfsCommand, ASecondPollerOnTheSameStateFileIsRefused) {
  GbfsFeedServer server(testing_support::FirstOsloSnapshots(20));
  TempDir dir;
  Child child(GbfsArgs(server, dir / "oslo.state"), dir / "first.jsonl");
  ASSERT_TRUE(WaitUntil([&] { return server.requests() >= 3; }, kPatience));
  std::string err;
  EXPECT_EQ(e2e::RunBikestream(GbfsArgs(server, dir / "oslo.state"), nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("--state " + (dir / "oslo.state") + " is in use by another poller"),
            std::string::npos)
      << err;
  FinishRun(child, server);
}

// A link to a state in use is that state: refused too. And a save through a link replaces the
// file it names, the link staying a link.
TEST(GbfsCommand, AStateGivenThroughALinkIsOneStateAndTheLinkStays) {
  TempDir dir;
  std::filesystem::create_symlink(dir / "real.state",
                                  dir / "link.state");  // Dangling until the first save.
  std::string err;
  ASSERT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslobysykkel",
                                "--state", dir / "link.state"},
                               nullptr, "/dev/null", &err),
            0)
      << err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "link.state"));
  EXPECT_NE(ReadFile(dir / "real.state").find(R"("system":"oslobysykkel")"), std::string::npos);

  GbfsFeedServer server(testing_support::FirstOsloSnapshots(20));
  Child child(GbfsArgs(server, dir / "real.state"), dir / "first.jsonl");
  ASSERT_TRUE(WaitUntil([&] { return server.requests() >= 3; }, kPatience));
  EXPECT_EQ(e2e::RunBikestream(GbfsArgs(server, dir / "link.state"), nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("is in use by another poller"), std::string::npos) << err;
  FinishRun(child, server);
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "link.state"));
}

// A state file that is not one — wrong JSON types, /dev/zero, a FIFO — is a one-line error that
// names it and the fix, never an abort or a hang.
TEST(GbfsCommand, AStateFileThatIsNotOneSaysSoAndWhatToDo) {
  TempDir dir;
  std::ofstream(dir / "types.state") << R"({"system":5,"stations":{"1":"x"},"pending":7})";
  ASSERT_EQ(::mkfifo((dir / "fifo.state").c_str(), 0600), 0);
  for (const auto& [state, expected] : std::vector<std::pair<std::string, std::string>>{
           {dir / "types.state",
            "not a saved GBFS state (no system) (damaged, or not written by bikestream gbfs: move "
            "it away to start from a new baseline)"},
           {"/dev/zero", "not a regular file; give the file this poller saves its state in"},
           {dir / "fifo.state",
            "not a regular file; give the file this poller saves its state in"}}) {
    std::string err;
    EXPECT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslobysykkel",
                                  "--state", state},
                                 nullptr, "/dev/null", &err),
              1)
        << state;
    EXPECT_NE(err.find(expected), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

// Ctrl-C is obeyed at once, also while a feed keeps a request waiting (here for 30 s), or a
// recorded file's one line inflates without end.
TEST(GbfsCommand, CtrlCIsObeyedWhileAFeedHoldsARequestOrALineNeverEnds) {
  std::atomic<bool> asked{false};
  std::atomic<bool> answered{false};
  std::atomic<bool> release{false};
  testing_support::LoopbackServer slow([&](httplib::Server& s) {
    s.Get("/gbfs.json", [&](const httplib::Request&, httplib::Response& response) {
      asked = true;
      for (int i = 0; i < 300 && !release; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      answered = true;
      response.set_content("{}", "application/json");
    });
  });
  TempDir dir;
  {
    Child child({"gbfs", slow.url() + "/gbfs.json", "--system", "oslo"}, dir / "live.out");
    ASSERT_TRUE(WaitUntil([&] { return asked.load(); }, kPatience));
    child.Signal(SIGINT);
    EXPECT_EQ(child.Wait(), 130);
    EXPECT_FALSE(answered);  // It did not wait for the answer.
    release = true;
  }
  // A gzip file whose one line inflates to 2 GB.
  const std::string bomb = dir / "bomb.jsonl.gz";
  {
    gzFile out = gzopen(bomb.c_str(), "wb1");
    ASSERT_NE(out, nullptr);
    const std::string zeros(1 << 20, '0');
    for (int i = 0; i < 2048; ++i)
      ASSERT_EQ(gzwrite(out, zeros.data(), unsigned(zeros.size())), int(zeros.size()));
    gzclose(out);
  }
  Child replay({"gbfs", bomb, "--system", "oslo"}, dir / "bomb.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // Into the line.
  replay.Signal(SIGINT);
  EXPECT_EQ(replay.Wait(), 130);  // As a shell reports Ctrl-C, within the line.
  EXPECT_EQ(ReadFile(dir / "bomb.out"), "");
}

TEST(GbfsCommand, AReplayIntoTheWarehouseStoresEachChangeOnce) {
  TempDir dir;
  const std::string warehouse = "sqlite:" + dir / "oslo.db";
  const std::vector<std::string> args = {"gbfs",        testing_support::kOsloWeek,
                                         "--system",    "oslobysykkel",
                                         "--to",        "warehouse",
                                         "--warehouse", warehouse};
  std::string err;
  ASSERT_EQ(e2e::RunBikestream(args, nullptr, "/dev/null", &err), 0) << err;
  EXPECT_EQ(StoredIds(warehouse), ExpectedIds(testing_support::OsloSnapshots()));
  EXPECT_NE(err.find(warehouse + ": received 27001, stored 27001, duplicates 0, dead-lettered 0"),
            std::string::npos)
      << err;
  ASSERT_EQ(e2e::RunBikestream(args, nullptr, "/dev/null", &err), 0) << err;
  EXPECT_NE(err.find("received 27001, stored 0, duplicates 27001, dead-lettered 0"),
            std::string::npos)
      << err;
}

// `| head`: once nobody reads the events, gbfs stops (a hand-off to a closed stdout cannot
// succeed by retrying) and says why.
TEST(GbfsCommand, StopsWhenItsReaderGoesAway) {
  TempDir dir;
  const std::string command = fmt::format(
      "timeout 60 bash -c '{} gbfs {} --system oslobysykkel 2>{} | head -1000 >/dev/null; echo "
      "${{PIPESTATUS[0]}}' >{}",
      BIKESTREAM_BINARY, testing_support::kOsloWeek, dir / "gbfs.err", dir / "status");
  ASSERT_EQ(std::system(command.c_str()), 0);
  // As `yes | head`: the reader has what it wanted; no error, no "Broken pipe".
  EXPECT_EQ(ReadFile(dir / "status"), "0\n") << ReadFile(dir / "gbfs.err");
  EXPECT_EQ(ReadFile(dir / "gbfs.err").find("Broken pipe"), std::string::npos)
      << ReadFile(dir / "gbfs.err");
}

// The name in event ids comes from the live feed's own system_information when none is given;
// a recorded file does not say it, and the error says so.
TEST(GbfsCommand, ALiveFeedNamesItsSystemAFileCannot) {
  GbfsFeedServer server(testing_support::FirstOsloSnapshots(20));
  TempDir dir;
  {
    Child child({"gbfs", server.discovery_url(), "--min-interval", "0.01"}, dir / "events.jsonl");
    FinishRun(child, server);
  }
  std::set<std::string> ids;
  CollectIds(dir / "events.jsonl", &ids);
  const std::string log = ReadFile(dir / "events.jsonl.err");
  ASSERT_FALSE(ids.empty()) << log;
  for (const std::string& id : ids) EXPECT_TRUE(id.starts_with("oslobysykkel:")) << id;
  EXPECT_NE(log.find("system oslobysykkel (the feed's system_id"), std::string::npos) << log;
  std::string err;
  EXPECT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek}, nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("give --system NAME: a recorded file does not say which system"),
            std::string::npos)
      << err;
}

// station_information given where station_status goes: one error, not a warning per station
// and snapshot with exit 0.
TEST(GbfsCommand, TheWrongFeedIsSaidOnce) {
  TempDir dir;
  const std::string swapped = dir / "swapped.jsonl";
  std::string document = ReadFile(testing_support::kOsloStationInformation);
  document.erase(std::remove(document.begin(), document.end(), '\n'), document.end());
  std::ofstream(swapped) << document << "\n" << document << "\n" << document << "\n";
  std::string err;
  EXPECT_EQ(
      e2e::RunBikestream({"gbfs", swapped, "--system", "oslobysykkel"}, nullptr, "/dev/null", &err),
      1);
  const std::string said = "this is a station_information document, not station_status";
  ASSERT_NE(err.find(said), std::string::npos) << err;
  EXPECT_EQ(err.find(said), err.rfind(said)) << err;
}

TEST(GbfsCommand, ABadFeedArgumentSaysWhatToFix) {
  std::string err;
  EXPECT_EQ(e2e::RunBikestream({"gbfs", "/nonexistent/feed.jsonl", "--system", "oslo"}, nullptr,
                               "/dev/null", &err),
            1);
  EXPECT_NE(err.find("no such file; FEED is an http(s):// URL of gbfs.json"), std::string::npos)
      << err;
  EXPECT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslo bysykkel"},
                               nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("--system names the bike-share system"), std::string::npos) << err;
  EXPECT_EQ(e2e::RunBikestream(
                {"gbfs", "http://127.0.0.1:1/gbfs.json", "--system", "oslo", "--speedup", "10"},
                nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("--speedup paces a recorded file"), std::string::npos) << err;
}

TEST(GbfsCommand, AReplayOfTheWeekWritesEveryChange) {
  std::string out;
  std::string err;
  ASSERT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslobysykkel"},
                               &out, "/dev/null", &err),
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

// Oslo's stations, in station_id order as ListStations gives them.
std::vector<Station> OsloStationsById() {
  std::vector<Station> stations = testing_support::OsloStations();
  std::sort(stations.begin(), stations.end(),
            [](const Station& a, const Station& b) { return a.station_id < b.station_id; });
  return stations;
}

std::vector<Station> StoredStations(const std::string& url) {
  auto warehouse = OpenWarehouse(url, {}, OpenMode::kMustExist);
  if (!warehouse.ok()) return {};
  return (*warehouse)->ListStations().value_or(std::vector<Station>{});
}

TEST(GbfsCommand, AReplayWithStationInformationFillsTheStationsTable) {
  TempDir dir;
  const std::string warehouse = "sqlite:" + dir / "oslo.db";
  std::string err;
  ASSERT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslobysykkel",
                                "--station-information", testing_support::kOsloStationInformation,
                                "--warehouse", warehouse},
                               nullptr, "/dev/null", &err),
            0)
      << err;
  EXPECT_EQ(StoredStations(warehouse), OsloStationsById());
  EXPECT_NE(err.find("stations table: 260 stations described at 2022-10-23T18:01:04Z"),
            std::string::npos)
      << err;
  // Again: the same description changes nothing.
  ASSERT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslobysykkel",
                                "--station-information", testing_support::kOsloStationInformation,
                                "--warehouse", warehouse},
                               nullptr, "/dev/null", &err),
            0)
      << err;
  EXPECT_EQ(StoredStations(warehouse), OsloStationsById());
}

TEST(GbfsCommand, ALiveFeedsStationInformationIsReadFromDiscoveryThroughAnOutage) {
  const auto snapshots = testing_support::FirstOsloSnapshots(20);
  GbfsFeedServer server(snapshots);
  server.ServeStationInformation(
      ReadWholeFile(testing_support::kOsloStationInformation, limits::kStationInformationFile)
          .value(),
      /*failures=*/1);
  TempDir dir;
  const std::string warehouse = "sqlite:" + dir / "oslo.db";
  std::vector<std::string> args = GbfsArgs(server, dir / "oslo.state");
  args.insert(args.end(), {"--warehouse", warehouse});
  {
    Child child(args, dir / "events.jsonl");
    FinishRun(child, server);
  }
  // The first read failed (a 503): the poller went on, and the stations are there from the first
  // read that worked, a minute later. Snapshots come every 10 ms here: the whole feed takes less.
  const std::string err = ReadFile(dir / "events.jsonl.err");
  EXPECT_NE(err.find("station_information: GET " + server.information_url() + ": HTTP 503"),
            std::string::npos)
      << err;
  EXPECT_EQ(server.information_requests(), 1) << err;
  std::set<std::string> ids;
  CollectIds(dir / "events.jsonl", &ids);
  EXPECT_EQ(ids, ExpectedIds(snapshots));

  GbfsFeedServer healthy(snapshots);
  healthy.ServeStationInformation(
      ReadWholeFile(testing_support::kOsloStationInformation, limits::kStationInformationFile)
          .value());
  args = GbfsArgs(healthy, dir / "healthy.state");
  args.insert(args.end(), {"--warehouse", warehouse});
  Child child(args, dir / "healthy.jsonl");
  FinishRun(child, healthy);
  EXPECT_EQ(StoredStations(warehouse), OsloStationsById()) << ReadFile(dir / "healthy.jsonl.err");
  EXPECT_EQ(healthy.information_requests(),
            1);  // Read once at the start; again only in 10 minutes.
}

TEST(GbfsCommand, StationInformationErrorsSayWhatToFix) {
  TempDir dir;
  const std::string warehouse = "sqlite:" + dir / "w.db";
  std::string err;
  EXPECT_EQ(e2e::RunBikestream(
                {"gbfs", testing_support::kOsloWeek, "--system", "oslo", "--warehouse", warehouse},
                nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(
      err.find(
          "with a recorded FEED, give their station_information.json (--station-information FILE)"),
      std::string::npos)
      << err;
  EXPECT_EQ(
      e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslo",
                          "--station-information", "http://127.0.0.1:1/station_information.json"},
                         nullptr, "/dev/null", &err),
      1);
  EXPECT_NE(err.find("a URL is read beside a live feed; with a recorded FEED give a file"),
            std::string::npos)
      << err;
  EXPECT_EQ(e2e::RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslo",
                                "--station-information", testing_support::kOsloStationInformation},
                               nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("--station-information fills the stations table: give its --warehouse URL"),
            std::string::npos)
      << err;
  EXPECT_EQ(e2e::RunBikestream(
                {"gbfs", testing_support::kOsloWeek, "--system", "oslo", "--station-information",
                 testing_support::kOsloWeek, "--warehouse", warehouse},
                nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find(testing_support::kOsloWeek + ": not JSON"), std::string::npos) << err;
}

}  // namespace
}  // namespace bikestream
