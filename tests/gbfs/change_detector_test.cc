// The events of a week of Oslo City Bike's real station_status feed (tests/data/gbfs), against
// the per-station changes computed here independently; restarts from saved state and re-read
// snapshots mint no other ids.
#include "gbfs/change_detector.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "gbfs/snapshot_file.h"
#include "support/oslo_week.h"

namespace bikestream::gbfs {
namespace {

using testing_support::Change;
using testing_support::ChangeOf;
using testing_support::kOsloWeek;

// The clock of a restart: after the Oslo week, as any real restart is.
constexpr TimestampMicros kNow = 1'800'000'000LL * kMicrosPerSecond;

std::vector<std::string> Snapshots() { return testing_support::OsloSnapshots(); }
std::vector<Change> OsloChanges(const std::vector<std::string>& snapshots) {
  return testing_support::ExpectedChanges(snapshots, "oslo");
}

std::vector<Change> Detect(ChangeDetector& detector, const std::vector<std::string>& snapshots,
                           std::size_t from, std::size_t to) {
  std::vector<Change> changes;
  for (std::size_t i = from; i < to; ++i) {
    auto status = ParseStationStatus(snapshots[i]);
    EXPECT_TRUE(status.ok()) << status.status();
    EXPECT_TRUE(status->problems.empty()) << status->problems.front();
    for (const Event& e : detector.Apply(*status)) changes.push_back(ChangeOf(e));
  }
  return changes;
}

TEST(ChangeDetector, AWeekOfOsloIsEveryChangeOfEveryStation) {
  const auto snapshots = Snapshots();
  ASSERT_EQ(snapshots.size(), 483u);
  ChangeDetector detector("oslo");
  const auto changes = Detect(detector, snapshots, 0, snapshots.size());
  EXPECT_EQ(changes, OsloChanges(snapshots));
  std::set<std::string> stations;  // 261 in each snapshot, 266 over the week.
  for (const std::string& line : snapshots) {
    const nlohmann::json snapshot = nlohmann::json::parse(line);
    for (const auto& station : snapshot["data"]["stations"])
      stations.insert(station["station_id"].get<std::string>());
  }
  EXPECT_EQ(detector.stations(), stations.size());
  std::int64_t taken = 0, returned = 0;
  std::set<std::string> ids;
  for (const auto& [id, station, ts, kind, delta] : changes) {
    (kind == Kind::kPickup ? taken : returned) += delta;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), changes.size());  // One id per change.
  // The data's README: about 20,900 taken and 20,800 returned over the week.
  EXPECT_NEAR(double(taken), 20'900, 500);
  EXPECT_NEAR(double(returned), 20'800, 500);
}

TEST(ChangeDetector, ARestartFromSavedStateAndReReadSnapshotsMintTheSameIds) {
  const auto snapshots = Snapshots();
  ChangeDetector uninterrupted("oslo");
  const auto expected = Detect(uninterrupted, snapshots, 0, snapshots.size());

  ChangeDetector first("oslo");
  auto changes = Detect(first, snapshots, 0, 200);
  const std::string state = first.SaveState();
  auto resumed = ChangeDetector::LoadState("oslo", state, kNow);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->pending.empty());
  // The last snapshot before the restart read again: nothing new.
  EXPECT_TRUE(Detect(resumed->detector, snapshots, 199, 200).empty());
  for (const auto& change : Detect(resumed->detector, snapshots, 200, snapshots.size()))
    changes.push_back(change);
  EXPECT_EQ(changes, expected);

  // Two detectors side by side, one of which starts late, agree on each change they both see.
  ChangeDetector late("oslo");
  const auto seen_late = Detect(late, snapshots, 300, snapshots.size());
  const std::set<Change> all(expected.begin(), expected.end());
  for (const auto& change : seen_late) EXPECT_TRUE(all.contains(change)) << std::get<0>(change);
}

TEST(ChangeDetector, PendingChangesSurviveTheSavedState) {
  const auto snapshots = Snapshots();
  ChangeDetector detector("oslo");
  std::vector<Event> pending;
  for (std::size_t i = 0; i < snapshots.size() && pending.empty(); ++i)
    pending = detector.Apply(*ParseStationStatus(snapshots[i]));
  ASSERT_FALSE(pending.empty());
  auto resumed = ChangeDetector::LoadState("oslo", detector.SaveState(pending), kNow);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->pending, pending);
  EXPECT_FALSE(ChangeDetector::LoadState(
                   "oslo", R"({"system":"oslo","stations":{},"pending":[{"event_id":"x"}]})", kNow)
                   .ok());
}

TEST(ChangeDetector, SavedStateOfAnotherSystemOrMalformedIsRefused) {
  ChangeDetector detector("oslo");
  EXPECT_NE(std::string(
                ChangeDetector::LoadState("bergen", detector.SaveState(), kNow).status().message())
                .find("the state is of system 'oslo', not 'bergen'"),
            std::string::npos);
  EXPECT_FALSE(ChangeDetector::LoadState("oslo", "{", kNow).ok());
  EXPECT_FALSE(
      ChangeDetector::LoadState("oslo", R"({"system":"oslo","stations":{"1":{"bikes":"x"}}})", kNow)
          .ok());
}

// Whatever JSON a state file holds, it is refused with a message, never thrown on (gbfs once
// ended with an uncaught type error on {"system":5}).
TEST(ChangeDetector, StateOfEveryWrongShapeIsRefusedWithoutAnException) {
  for (const char* state :
       {R"({"system":5,"stations":{}})", R"({"system":null,"stations":{}})",
        R"({"system":["oslo"],"stations":{}})", R"({"stations":{}})", R"({"system":"oslo"})",
        R"({"system":"oslo","stations":[]})", R"({"system":"oslo","stations":{"1":5}})",
        R"({"system":"oslo","stations":{"1":{"last_reported":1.5,"bikes":1}}})",
        R"({"system":"oslo","stations":{},"pending":5})",
        R"({"system":"oslo","stations":{},"pending":{"a":1}})",
        R"({"system":"oslo","stations":{},"pending":[{"event_id":5}]})", "[]", "5", "\"x\"", ""}) {
    absl::StatusOr<ChangeDetector::Resumed> resumed = absl::UnknownError("");
    EXPECT_NO_THROW(resumed = ChangeDetector::LoadState("oslo", state, kNow)) << state;
    EXPECT_TRUE(absl::IsInvalidArgument(resumed.status())) << state << ": " << resumed.status();
  }
}

// A station whose saved report no real one could follow — dated in 9999, or counting bikes a
// 32-bit change would wrap — would freeze it for good: it starts again from its next report,
// and says so.
TEST(ChangeDetector, ASavedReportNoRealOneCouldFollowIsLeftOutAndNamed) {
  const std::string state = fmt::format(
      R"({{"system":"oslo","stations":{{"future":{{"last_reported":{},"bikes":3}},"huge":{{"last_reported":1,"bikes":4294967301}},"fine":{{"last_reported":1,"bikes":3}}}}}})",
      253402300799LL * kMicrosPerSecond);
  auto resumed = ChangeDetector::LoadState("oslo", state, kNow);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->detector.stations(), 1u);
  ASSERT_EQ(resumed->problems.size(), 2u);
  EXPECT_NE(resumed->problems[0].find(
                "station future: its saved report (3 bikes at 9999-12-31T23:59:59Z) cannot be"),
            std::string::npos)
      << resumed->problems[0];
  EXPECT_NE(resumed->problems[1].find("station huge: its saved report (4294967301 bikes"),
            std::string::npos);
  // Their next reports are baselines, the one after a change.
  auto first = ParseStationStatus(
      R"({"last_updated":100,"data":{"stations":[{"station_id":"future","last_reported":100,"num_bikes_available":5},
         {"station_id":"fine","last_reported":100,"num_bikes_available":2}]}})");
  auto second = ParseStationStatus(
      R"({"last_updated":200,"data":{"stations":[{"station_id":"future","last_reported":200,"num_bikes_available":1}]}})");
  ASSERT_TRUE(first.ok() && second.ok());
  const auto changes = resumed->detector.Apply(*first);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].station_id, "fine");
  const auto after = resumed->detector.Apply(*second);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].station_id, "future");
  EXPECT_EQ(after[0].delta, 4);
}

TEST(SnapshotFile, AMissingFileAndATruncatedOneSaySo) {
  EXPECT_EQ(
      ForEachSnapshotLine("/nonexistent/feed.jsonl.gz", [](const Line&) { return true; }).code(),
      absl::StatusCode::kNotFound);
  const std::string truncated = ::testing::TempDir() + "/truncated.jsonl.gz";
  {
    FILE* in = std::fopen(kOsloWeek.c_str(), "rb");
    FILE* out = std::fopen(truncated.c_str(), "wb");
    ASSERT_TRUE(in && out);
    std::vector<char> bytes(200'000);
    const std::size_t read = std::fread(bytes.data(), 1, bytes.size(), in);
    std::fwrite(bytes.data(), 1, read, out);
    std::fclose(in);
    std::fclose(out);
  }
  std::size_t lines = 0;
  const absl::Status status =
      ForEachSnapshotLine(truncated, [&](const Line&) { return ++lines, true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_GT(lines, 10u);  // What came before the cut.
}

// Writes `lines` to `path` gzip-compressed.
void WriteGzipLines(const std::string& path, const std::vector<std::string>& lines) {
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  for (const std::string& line : lines) {
    ASSERT_EQ(gzwrite(out, line.data(), static_cast<unsigned>(line.size())), int(line.size()));
    ASSERT_EQ(gzwrite(out, "\n", 1), 1);
  }
  gzclose(out);
}

// A line past the bound (a recorded .gz whose one line inflates without end) is handed on cut
// and named, in bounded memory, and the lines after it are read as before.
TEST(SnapshotFile, ALinePastTheBoundIsCutAndTheRestRead) {
  const std::string path = ::testing::TempDir() + "/long-line.jsonl.gz";
  WriteGzipLines(path, {"first", std::string(5'000'000, 'x'), "third"});
  std::vector<std::pair<std::string, bool>> seen;
  const absl::Status read = ForEachSnapshotLine(
      path,
      [&](const Line& line) {
        seen.emplace_back(std::string(line.text.substr(0, 10)), line.truncated);
        return true;
      },
      [] { return false; }, /*max_line_bytes=*/1000);
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, bool>>{
                      {"first", false}, {"xxxxxxxxxx", true}, {"third", false}}));
}

// A stop is obeyed inside one long line, not only between lines: Ctrl-C during a gzip bomb.
TEST(SnapshotFile, AStopIsObeyedWithinALongLine) {
  const std::string path = ::testing::TempDir() + "/stopped-line.jsonl.gz";
  const std::size_t line_longer_than_the_bound = 50'000'000;
  WriteGzipLines(path, {"first", std::string(line_longer_than_the_bound, 'x'), "third"});
  int asked = 0;
  std::vector<std::string> seen;
  const absl::Status read = ForEachSnapshotLine(
      path,
      [&](const Line& line) {
        seen.emplace_back(line.text.substr(0, 5));
        return true;
      },
      [&] { return ++asked > 5; });
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(seen, (std::vector<std::string>{"first"}));  // Stopped within the second line.
  EXPECT_LT(asked, 10);
}

}  // namespace
}  // namespace bikestream::gbfs
