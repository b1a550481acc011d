// The streaming-feature sink: the clock drives ticks for an idle live stream, never for old data.
#include "job/streaming_feature_sink.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

const TimestampMicros kT0 = *ParseRfc3339("2025-11-16T10:05:00Z");

class StreamingFeatureSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    warehouse_ = std::move(*OpenWarehouse("sqlite::memory:"));
    ASSERT_TRUE(warehouse_->Setup().ok());
  }
  // Commits one event and tells the sink, as an Ingestor would.
  void Commit(StreamingFeatureSink& sink, Event event) {
    Batch batch;
    batch.events = {std::move(event)};
    auto result = warehouse_->Commit(batch);
    ASSERT_TRUE(result.ok());
    sink.OnCommit(batch.events, result->newly_stored);
  }
  std::int64_t Ticks() {
    return std::stoll(
        warehouse_->Query("SELECT count(DISTINCT as_of) FROM station_features")->rows[0][0].text);
  }
  std::unique_ptr<Warehouse> warehouse_;
  testing_support::FakeClock clock_;
};

TEST_F(StreamingFeatureSinkTest, AnIdleLiveStreamStillGetsARowAtEveryTick) {
  clock_.Set(kT0);
  auto sink = *StreamingFeatureSink::Create(*warehouse_, *warehouse_, {.clock = &clock_});
  Commit(*sink, Event{"e-1", "A_101", kT0, Kind::kPickup, 1});
  EXPECT_EQ(Ticks(), 0);                    // 10:15 has not come yet.
  clock_.Set(kT0 + 61 * kMicrosPerMinute);  // 11:06, and no event since 10:05.
  sink->OnIdle();
  EXPECT_EQ(Ticks(), 4);  // 10:15, 10:30, 10:45, 11:00.
  auto rows = *warehouse_->StoredFeatures(*ParseRfc3339("2025-11-16T11:00:00Z"));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].station_id, "A_101");
}

TEST_F(StreamingFeatureSinkTest, ReportsTicksAndTooLateEventsInTheJobMetrics) {
  clock_.Set(kT0);
  auto sink = *StreamingFeatureSink::Create(
      *warehouse_, *warehouse_, {.allowed_lateness = 5 * kMicrosPerMinute, .clock = &clock_});
  JobMetrics metrics;
  sink->AttachMetrics(&metrics);
  Commit(*sink, Event{"e-1", "A_101", kT0, Kind::kPickup, 1});
  Commit(*sink, Event{"e-2", "A_101", kT0 + 40 * kMicrosPerMinute, Kind::kPickup,
                      1});  // 10:15, 10:30, 10:45.
  Commit(*sink,
         Event{"e-3", "A_101", kT0 + 5 * kMicrosPerMinute, Kind::kPickup, 1});  // 35 min late.
  EXPECT_EQ(metrics.feature_ticks_written.load(), 3u);
  EXPECT_EQ(metrics.features_too_late.load(), 1u);
  EXPECT_NE(
      PrometheusText(metrics, JobState::kRunning).find("bikestream_features_too_late_total 1\n"),
      std::string::npos);
}

TEST_F(StreamingFeatureSinkTest, TheClockNeverFillsTheGapAfterOldData) {
  clock_.Set(kT0 + 30 * 24 * 60 * kMicrosPerMinute);  // A month after the events: a replay.
  auto sink = *StreamingFeatureSink::Create(*warehouse_, *warehouse_, {.clock = &clock_});
  Commit(*sink, Event{"e-1", "A_101", kT0, Kind::kPickup, 1});
  sink->OnIdle();
  EXPECT_EQ(Ticks(), 0);
}

// A job idle before its first event (the consumer started before the producer, as `run` under
// load) knows no event time yet: the clock must not become its watermark, or every event of
// a replay would be too late and each tick a row of zeros.
TEST_F(StreamingFeatureSinkTest, IdleBeforeTheFirstEventMovesNothing) {
  clock_.Set(kT0 + 400 * 24 * 60 * kMicrosPerMinute);  // A year and more after the replayed events.
  auto sink = *StreamingFeatureSink::Create(*warehouse_, *warehouse_, {.clock = &clock_});
  sink->OnIdle();
  Commit(*sink, Event{"e-1", "A_101", kT0, Kind::kPickup, 1});
  Commit(*sink, Event{"e-2", "A_101", kT0 + 20 * kMicrosPerMinute, Kind::kPickup, 1});
  EXPECT_EQ(sink->too_late(), 0u);
  EXPECT_EQ(Ticks(), 1);  // 10:15 only.
  auto rows = *warehouse_->StoredFeatures(*ParseRfc3339("2025-11-16T10:15:00Z"));
  bool counted = false;
  for (const auto& row : rows) counted |= row.feature_name == "pickup_count" && row.value == 1;
  EXPECT_TRUE(counted);
}

TEST_F(StreamingFeatureSinkTest, ARedeliveredEventIsNotCountedAgain) {
  clock_.Set(kT0);
  auto sink = *StreamingFeatureSink::Create(*warehouse_, *warehouse_, {.clock = &clock_});
  Commit(*sink, Event{"e-1", "A_101", kT0, Kind::kPickup, 1});
  Commit(*sink, Event{"e-1", "A_101", kT0, Kind::kPickup, 1});  // Redelivered.
  Commit(*sink, Event{"e-2", "A_101", kT0 + 20 * kMicrosPerMinute, Kind::kDropoff, 1});
  auto rows = *warehouse_->StoredFeatures(*ParseRfc3339("2025-11-16T10:15:00Z"));
  for (const auto& row : rows) {
    if (row.feature_name == "pickup_count") {
      EXPECT_EQ(row.value, 1);
    }
  }
  EXPECT_FALSE(rows.empty());
}

}  // namespace
}  // namespace bikestream
