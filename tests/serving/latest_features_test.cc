// The latest tick `serve` holds, on each engine the test binary is built for
// (support/warehouse_backends.h): the training set's rows at the latest tick, cell for cell and
// typed alike, followed to a newer tick and re-read when a tick is rewritten in place.
#include "serving/latest_features.h"

#include <gtest/gtest.h>

#include "features/feature_spec.h"
#include "support/events.h"
#include "support/fake_clock.h"
#include "support/warehouse_backends.h"

namespace bikestream {
namespace {

using testing_support::FakeClock;

constexpr TimestampMicros kServedTick = 1'763'251'200'000'000;  // 2025-11-16T00:00:00Z.
constexpr DurationMicros kServedReread = 5 * kMicrosPerSecond;

class LatestFeaturesTest : public testing_support::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Batch batch;
    batch.events = testing_support::TwoStationsBefore(kServedTick);
    ASSERT_TRUE(warehouse_->Commit(batch).ok());
  }

  void ComputeAt(TimestampMicros as_of) {
    auto written = warehouse_->RefreshFeatures(DefaultFeatures(), as_of);
    ASSERT_TRUE(written.ok()) << written.status();
  }

  // Every station's cells held are the training set's at `as_of`, typed alike.
  void ExpectHeldAsTrained(const LatestTick& tick, TimestampMicros as_of) {
    auto trained =
        warehouse_->TrainingSet({.features = FeatureNames(DefaultFeatures()), .as_of = as_of});
    ASSERT_TRUE(trained.ok()) << trained.status();
    ASSERT_FALSE(trained->rows.empty());
    EXPECT_EQ(tick.as_of, as_of);
    ASSERT_EQ(tick.stations.size(), trained->rows.size());
    for (const auto& row : trained->rows) {
      EXPECT_EQ(tick.as_of_text, row[1].text);
      const auto& held = tick.stations.at(row[0].text);
      ASSERT_EQ(held.size() + 2, row.size());
      for (std::size_t c = 2; c < row.size(); ++c) {
        EXPECT_EQ(held[c - 2].text, row[c].text) << row[0].text << " " << trained->columns[c];
        EXPECT_EQ(held[c - 2].is_null, row[c].is_null) << trained->columns[c];
        EXPECT_EQ(held[c - 2].is_number, row[c].is_number) << trained->columns[c];
      }
    }
  }
};

TEST_P(LatestFeaturesTest, HoldsTheTrainingSetsRowsOfTheLatestTickAndFollowsNewOnes) {
  FakeClock clock(kServedTick + kMicrosPerHour);
  LatestFeatures latest(*warehouse_, FeatureNames(DefaultFeatures()), clock, kServedReread);
  ASSERT_TRUE(latest.Refresh().ok());
  EXPECT_EQ(latest.Current(), nullptr);  // Nothing computed yet.

  ComputeAt(kServedTick - 15 * kMicrosPerMinute);
  ComputeAt(kServedTick);
  ASSERT_TRUE(latest.Refresh().ok());
  ASSERT_NE(latest.Current(), nullptr);
  ExpectHeldAsTrained(*latest.Current(), kServedTick);

  // A newer tick is read at the next refresh.
  ComputeAt(kServedTick + 15 * kMicrosPerMinute);
  ASSERT_TRUE(latest.Refresh().ok());
  ExpectHeldAsTrained(*latest.Current(), kServedTick + 15 * kMicrosPerMinute);

  // The latest tick rewritten in place (a late event, a backfill) is read again after `reread`.
  Batch late;
  late.events = {Event{"late", "A", kServedTick + kMicrosPerMinute, Kind::kPickup, 7}};
  ASSERT_TRUE(warehouse_->Commit(late).ok());
  ComputeAt(kServedTick + 15 * kMicrosPerMinute);
  const auto before = latest.Current();
  ASSERT_TRUE(latest.Refresh().ok());
  EXPECT_EQ(latest.Current(), before);  // Within `reread`: not read again.
  clock.Advance(kServedReread + kMicrosPerSecond);
  ASSERT_TRUE(latest.Refresh().ok());
  ASSERT_NE(latest.Current(), before);
  EXPECT_NE(latest.Current()->stations.at("A")[0].text, before->stations.at("A")[0].text);
  ExpectHeldAsTrained(*latest.Current(), kServedTick + 15 * kMicrosPerMinute);
}

INSTANTIATE_TEST_SUITE_P(, LatestFeaturesTest,
                         ::testing::ValuesIn(testing_support::BackendsUnderTest()),
                         testing_support::BackendName);

}  // namespace
}  // namespace bikestream
