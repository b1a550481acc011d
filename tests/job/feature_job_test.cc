// The batch feature job's backfill and verify, on an in-memory SQLite warehouse.
#include "job/feature_job.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

const TimestampMicros kFirstEvent = *ParseRfc3339("2025-11-16T10:05:00Z");
const TimestampMicros kTick1030 = *ParseRfc3339("2025-11-16T10:30:00Z");

class FeatureJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    warehouse_ = std::move(*OpenWarehouse("sqlite::memory:"));
    ASSERT_TRUE(warehouse_->Setup().ok());
    Batch batch;
    batch.events = {Event{"e-1", "A_101", kFirstEvent, Kind::kPickup, 1},
                    Event{"e-2", "B_202", kFirstEvent, Kind::kDropoff, 2}};
    ASSERT_TRUE(warehouse_->Commit(batch).ok());
  }
  std::vector<std::string> log_;
  FeatureJobOptions Options() {
    return {.log = [this](const std::string& line) { log_.push_back(line); }};
  }
  std::unique_ptr<Warehouse> warehouse_;
};

TEST_F(FeatureJobTest, BackfillRefreshesEveryTickOfTheRangeInOrder) {
  ASSERT_TRUE(
      BackfillFeatures(*warehouse_, Options(), kFirstEvent, *ParseRfc3339("2025-11-16T11:00:00Z"))
          .ok());
  ASSERT_FALSE(log_.empty());
  EXPECT_EQ(log_[0], "backfilling 4 ticks every 900 s");  // 10:15, 10:30, 10:45, 11:00.
  auto ticks = warehouse_->Query("SELECT count(DISTINCT as_of) FROM station_features");
  ASSERT_TRUE(ticks.ok()) << ticks.status();
  EXPECT_EQ(ticks->rows[0][0].text, "4");
}

TEST_F(FeatureJobTest, VerifyFindsNothingWrongWithWhatWasJustComputed) {
  ASSERT_TRUE(RefreshFeaturesAt(*warehouse_, Options(), kTick1030).ok());
  auto verification = VerifyFeatures(*warehouse_, DefaultFeatures(), kTick1030);
  ASSERT_TRUE(verification.ok()) << verification.status();
  EXPECT_GT(verification->expected, 0u);
  EXPECT_EQ(verification->stored, verification->expected);
  EXPECT_TRUE(verification->differences.empty());
}

TEST_F(FeatureJobTest, VerifyNamesEveryRowMissingChangedOrExtra) {
  ASSERT_TRUE(RefreshFeaturesAt(*warehouse_, Options(), kTick1030).ok());
  // A row changed behind the job's back, one gone, one that should not be there.
  auto rows = *warehouse_->StoredFeatures(kTick1030);
  ASSERT_GE(rows.size(), 2u);
  std::vector<FeatureRow> tampered = rows;
  tampered[0].value += 7;
  tampered.erase(tampered.begin() + 1);
  tampered.push_back({.station_id = "Z_999",
                      .feature_name = rows[0].feature_name,
                      .window_len = rows[0].window_len,
                      .value = 1,
                      .as_of = kTick1030});
  ASSERT_TRUE(
      warehouse_->WriteFeatureTicks(FeatureNames(DefaultFeatures()), {{kTick1030, tampered}}).ok());
  auto verification = VerifyFeatures(*warehouse_, DefaultFeatures(), kTick1030);
  ASSERT_TRUE(verification.ok()) << verification.status();
  ASSERT_EQ(verification->differences.size(), 3u);
  std::vector<std::string> what;
  for (const FeatureDifference& d : verification->differences)
    what.push_back(d.station_id + " " + d.what);
  EXPECT_NE(std::find(what.begin(), what.end(),
                      rows[0].station_id + " stored " + fmt::format("{}", rows[0].value + 7) +
                          ", expected " + fmt::format("{}", rows[0].value)),
            what.end());
  EXPECT_NE(std::find(what.begin(), what.end(),
                      rows[1].station_id + " missing (expected " +
                          fmt::format("{}", rows[1].value) + ")"),
            what.end());
  EXPECT_NE(std::find(what.begin(), what.end(), "Z_999 stored 1, expected no row"), what.end());
}

}  // namespace
}  // namespace bikestream
