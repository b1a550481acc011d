// Batch features against hand-computed expectations on small fixtures, window edges included,
// on each engine the test binary is built for (support/warehouse_backends.h).
#include <gtest/gtest.h>

#include <map>

#include "features/feature_spec.h"
#include "support/warehouse_backends.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

const TimestampMicros kAsOf = *ParseRfc3339("2025-11-16T02:15:00Z");

class BatchFeaturesTest : public testing_support::BackendTest {
 protected:
  void Add(const std::string& station, TimestampMicros ts, Kind kind, int delta = 1) {
    Batch batch;
    batch.events.push_back(Event{"e-" + std::to_string(next_id_++), station, ts, kind, delta});
    ASSERT_TRUE(warehouse_->Commit(batch).ok());
  }

  // feature name → station → value, at kAsOf.
  std::map<std::string, std::map<std::string, double>> Compute(
      const std::vector<FeatureSpec>& features = DefaultFeatures(), TimestampMicros as_of = kAsOf) {
    auto rows = warehouse_->ComputeFeatures(features, as_of);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, std::map<std::string, double>> values;
    for (const auto& row : *rows) {
      EXPECT_TRUE(values[row.feature_name].emplace(row.station_id, row.value).second)
          << "two rows for " << row.station_id << " " << row.feature_name;
    }
    return values;
  }

  int next_id_ = 1;
};

TEST_P(BatchFeaturesTest, WindowHoldsEventsAfterItsStartUpToAndIncludingAsOf) {
  Add("A_101", kAsOf - 2 * kMicrosPerHour, Kind::kPickup);      // Exactly as_of − W: out.
  Add("A_101", kAsOf - 2 * kMicrosPerHour + 1, Kind::kPickup);  // Just inside.
  Add("A_101", kAsOf, Kind::kPickup);                           // Exactly as_of: in.
  Add("A_101", kAsOf + 1, Kind::kPickup);                       // After as_of: out.
  Add("A_101", kAsOf - kMicrosPerHour, Kind::kDropoff);
  auto v = Compute();
  EXPECT_EQ(v["pickup_count"]["A_101"], 2);
  EXPECT_EQ(v["dropoff_count"]["A_101"], 1);
}

TEST_P(BatchFeaturesTest, CountsGiveZeroRowsForEveryKnownStationAndNoneForUnknown) {
  Add("A_101", kAsOf - 30 * kMicrosPerHour, Kind::kDropoff);  // Known, nothing recent.
  Add("B_7", kAsOf + kMicrosPerHour, Kind::kPickup);          // Not yet known at as_of.
  auto v = Compute();
  ASSERT_TRUE(v["pickup_count"].contains("A_101"));
  EXPECT_EQ(v["pickup_count"]["A_101"], 0);
  EXPECT_EQ(v["dropoff_count"]["A_101"], 0);
  EXPECT_FALSE(v["pickup_count"].contains("B_7"));
  EXPECT_FALSE(v["avg_delta_pickup"].contains("A_101"));  // No row for an average over nothing.
  EXPECT_EQ(v["is_peak_station"]["A_101"], 0.0);          // No pickups: never peak.
}

TEST_P(BatchFeaturesTest, AverageDeltaOfPickupsOverTwentyFourHours) {
  Add("A_101", kAsOf - 23 * kMicrosPerHour, Kind::kPickup, 1);
  Add("A_101", kAsOf - 3 * kMicrosPerHour, Kind::kPickup, 2);
  Add("A_101", kAsOf, Kind::kPickup, 6);
  Add("A_101", kAsOf - 24 * kMicrosPerHour, Kind::kPickup, 100);  // At the window's start: out.
  Add("A_101", kAsOf - kMicrosPerHour, Kind::kDropoff, 50);       // Not a pickup.
  auto v = Compute();
  EXPECT_DOUBLE_EQ(v["avg_delta_pickup"]["A_101"], 3.0);
}

TEST_P(BatchFeaturesTest, PeakStationIsTheTopTenPercentByPickupsUpToAsOf) {
  // 3 stations: k = ceil(0.3) = 1; the two tied at the top are both peak.
  for (int i = 0; i < 5; ++i) Add("A_101", kAsOf - 100 * kMicrosPerHour - i, Kind::kPickup);
  for (int i = 0; i < 5; ++i) Add("A_205", kAsOf - i, Kind::kPickup);
  for (int i = 0; i < 4; ++i) Add("A_310", kAsOf - i, Kind::kPickup);
  for (int i = 0; i < 9; ++i) Add("A_310", kAsOf + 1 + i, Kind::kPickup);  // After as_of.
  auto v = Compute();
  EXPECT_EQ(v["is_peak_station"]["A_101"], 1.0);
  EXPECT_EQ(v["is_peak_station"]["A_205"], 1.0);
  EXPECT_EQ(v["is_peak_station"]["A_310"], 0.0);
}

TEST_P(BatchFeaturesTest, PeakRankUsesTheCeilingExactlyAtThirtyStations) {
  // 0.1 × 30 is 3.0000000000000004 in binary; k must still be 3.
  for (int s = 0; s < 30; ++s) {
    for (int i = 0; i <= s; ++i) Add("S_" + std::to_string(s), kAsOf - i - 1, Kind::kPickup);
  }
  auto v = Compute();
  int peaks = 0;
  for (auto& [station, value] : v["is_peak_station"]) peaks += value == 1.0;
  EXPECT_EQ(peaks, 3);
  EXPECT_EQ(v["is_peak_station"]["S_29"], 1.0);
  EXPECT_EQ(v["is_peak_station"]["S_27"], 1.0);
  EXPECT_EQ(v["is_peak_station"]["S_26"], 0.0);
  EXPECT_EQ(TopShareRank(0.1, 30), 3u);
  EXPECT_EQ(TopShareRank(0.1, 31), 4u);
  EXPECT_EQ(TopShareRank(0.1, 1), 1u);
}

TEST_P(BatchFeaturesTest, OneStationAloneIsPeakOnlyWithPickups) {
  Add("A_101", kAsOf - 1, Kind::kDropoff);
  EXPECT_EQ(Compute()["is_peak_station"]["A_101"], 0.0);
  Add("A_101", kAsOf - 2, Kind::kPickup);
  EXPECT_EQ(Compute()["is_peak_station"]["A_101"], 1.0);
}

TEST_P(BatchFeaturesTest, RefreshReplacesTheRowsOfItsAsOfAndNeverDuplicates) {
  Add("A_101", kAsOf - 1, Kind::kPickup, 4);
  auto first = warehouse_->RefreshFeatures(DefaultFeatures(), kAsOf);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 4u);
  ASSERT_TRUE(warehouse_->RefreshFeatures(DefaultFeatures(), kAsOf).ok());
  EXPECT_EQ(warehouse_->StoredFeatures(kAsOf)->size(), 4u);
  // A late event changes the values; the refresh replaces them.
  Add("A_101", kAsOf - 2, Kind::kPickup, 2);
  ASSERT_TRUE(warehouse_->RefreshFeatures(DefaultFeatures(), kAsOf).ok());
  auto stored = *warehouse_->StoredFeatures(kAsOf);
  ASSERT_EQ(stored.size(), 4u);
  std::map<std::string, double> by_name;
  for (auto& row : stored) by_name[row.feature_name] = row.value;
  EXPECT_EQ(by_name["pickup_count"], 2);
  EXPECT_DOUBLE_EQ(by_name["avg_delta_pickup"], 3.0);
  EXPECT_EQ(*warehouse_->LatestFeatureTime(), kAsOf);
}

TEST_P(BatchFeaturesTest, AFeatureFileAddsFeaturesWithoutCode) {
  auto features = ParseFeatureFile(R"(
[[feature]]
name = "dropoff_bikes_7d"
window = "7d"
aggregate = "sum"
kind = "dropoff"

[[feature]]
name = "max_group_all_time"
window = "all_time"
aggregate = "max"

[[feature]]
name = "min_pickup_30m"
window = "30m"
aggregate = "min"
kind = "pickup"
)",
                                   "test.toml");
  ASSERT_TRUE(features.ok()) << features.status();
  Add("A_101", kAsOf - 6 * 24 * kMicrosPerHour, Kind::kDropoff, 3);
  Add("A_101", kAsOf - 8 * 24 * kMicrosPerHour, Kind::kDropoff, 40);  // Outside 7d.
  Add("A_101", kAsOf - 10 * 60 * kMicrosPerSecond, Kind::kPickup, 5);
  Add("A_101", kAsOf - 20 * 60 * kMicrosPerSecond, Kind::kPickup, 2);
  auto v = Compute(*features);
  EXPECT_EQ(v["dropoff_bikes_7d"]["A_101"], 3);
  EXPECT_EQ(v["max_group_all_time"]["A_101"], 40);
  EXPECT_EQ(v["min_pickup_30m"]["A_101"], 2);
}

INSTANTIATE_TEST_SUITE_P(, BatchFeaturesTest,
                         ::testing::ValuesIn(testing_support::BackendsUnderTest()),
                         testing_support::BackendName);

}  // namespace
}  // namespace bikestream
