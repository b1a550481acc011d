// The events of a week of Oslo City Bike's real station_status feed (tests/data/gbfs), against
// the per-station changes computed here independently; restarts from saved state and re-read
// snapshots mint no other ids.
#include "gbfs/change_detector.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

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

std::vector<std::string> Snapshots() { return testing_support::OsloSnapshots(); }
std::vector<Change> OsloChanges(const std::vector<std::string>& snapshots) {
  return testing_support::ExpectedChanges(snapshots, "oslo");
}

std::vector<Change> Detect(ChangeDetector& detector, const std::vector<std::string>& snapshots, std::size_t from,
                        std::size_t to) {
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
    for (const auto& station : snapshot["data"]["stations"]) stations.insert(station["station_id"].get<std::string>());
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
  auto resumed = ChangeDetector::LoadState("oslo", state);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->pending.empty());
  // The last snapshot before the restart read again: nothing new.
  EXPECT_TRUE(Detect(resumed->detector, snapshots, 199, 200).empty());
  for (const auto& change : Detect(resumed->detector, snapshots, 200, snapshots.size())) changes.push_back(change);
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
  for (std::size_t i = 0; i < snapshots.size() && pending.empty(); ++i) pending = detector.Apply(*ParseStationStatus(snapshots[i]));
  ASSERT_FALSE(pending.empty());
  auto resumed = ChangeDetector::LoadState("oslo", detector.SaveState(pending));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->pending, pending);
  EXPECT_FALSE(ChangeDetector::LoadState("oslo", R"({"system":"oslo","stations":{},"pending":[{"event_id":"x"}]})").ok());
}

TEST(ChangeDetector, SavedStateOfAnotherSystemOrMalformedIsRefused) {
  ChangeDetector detector("oslo");
  EXPECT_NE(std::string(ChangeDetector::LoadState("bergen", detector.SaveState()).status().message())
                .find("the state is of system 'oslo', not 'bergen'"),
            std::string::npos);
  EXPECT_FALSE(ChangeDetector::LoadState("oslo", "{").ok());
  EXPECT_FALSE(ChangeDetector::LoadState("oslo", R"({"system":"oslo","stations":{"1":{"bikes":"x"}}})").ok());
}

TEST(SnapshotFile, AMissingFileAndATruncatedOneSaySo) {
  EXPECT_EQ(ForEachSnapshotLine("/nonexistent/feed.jsonl.gz", [](std::string_view) { return true; }).code(),
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
  const absl::Status status = ForEachSnapshotLine(truncated, [&](std::string_view) { return ++lines, true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_GT(lines, 10u);  // What came before the cut.
}

}  // namespace
}  // namespace bikestream::gbfs
