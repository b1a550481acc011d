#include "job/job_control.h"

#include <gtest/gtest.h>

namespace bikestream {
namespace {

TEST(JobControl, DrainOnlyFromRunning) {
  JobControl control;
  EXPECT_TRUE(control.running());
  EXPECT_TRUE(control.RequestDrain());
  EXPECT_EQ(control.state(), JobState::kDraining);
  EXPECT_FALSE(control.RequestDrain());
  control.Finish(JobState::kDrained);
  EXPECT_FALSE(control.RequestCancel());  // Ended jobs stay ended.
  EXPECT_EQ(control.state(), JobState::kDrained);
}

TEST(JobControl, CancelWinsOverADrainInProgress) {
  JobControl control;
  ASSERT_TRUE(control.RequestDrain());
  EXPECT_TRUE(control.RequestCancel());
  EXPECT_EQ(control.state(), JobState::kCancelled);
}

TEST(JobMetrics, PrometheusTextHasCountersStateAndCumulativeHistogram) {
  JobMetrics metrics;
  metrics.stored = 7;
  metrics.ObserveLatency(0.02);
  metrics.ObserveLatency(0.3);
  metrics.ObserveLatency(100);
  const std::string text = PrometheusText(metrics, JobState::kDraining);
  EXPECT_NE(text.find("bikestream_stored_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("bikestream_job_state{state=\"DRAINING\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("bikestream_job_state{state=\"RUNNING\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("bikestream_publish_to_commit_seconds_bucket{le=\"0.01\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("bikestream_publish_to_commit_seconds_bucket{le=\"0.05\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("bikestream_publish_to_commit_seconds_bucket{le=\"0.5\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("bikestream_publish_to_commit_seconds_bucket{le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("bikestream_publish_to_commit_seconds_count 3\n"), std::string::npos);
}

// The cost governor's figure: bytes billed over events stored, 0 before anything is stored.
TEST(JobMetrics, BytesBilledPerStoredEventDividesTheBillByTheEventsStored) {
  JobMetrics metrics;
  metrics.warehouse_bytes_billed = 50'000'000;
  EXPECT_NE(PrometheusText(metrics, JobState::kRunning)
                .find("bikestream_warehouse_bytes_billed_per_stored_event 0\n"),
            std::string::npos);
  metrics.stored = 400;
  const std::string text = PrometheusText(metrics, JobState::kRunning);
  EXPECT_NE(text.find("bikestream_warehouse_bytes_billed_per_stored_event 125000\n"),
            std::string::npos)
      << text;
}

// /healthz said ok while the job stored nothing because every commit failed.
TEST(JobMetrics, UnhealthyWhenFailedOrWhileCommitsKeepFailing) {
  JobMetrics metrics;
  EXPECT_EQ(Unhealthy(metrics, JobState::kRunning), "");
  EXPECT_EQ(Unhealthy(metrics, JobState::kFailed), "failed");
  metrics.commit_failures_in_a_row = 3;
  EXPECT_NE(Unhealthy(metrics, JobState::kRunning).find("the last 3 in a row"), std::string::npos);
  EXPECT_NE(
      PrometheusText(metrics, JobState::kRunning).find("bikestream_commit_failures_in_a_row 3\n"),
      std::string::npos);
  metrics.commit_failures_in_a_row = 0;
  EXPECT_EQ(Unhealthy(metrics, JobState::kRunning), "");
}

}  // namespace
}  // namespace bikestream
