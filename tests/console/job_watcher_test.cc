// The job watcher against a real streaming job in this process (the in-process broker into an
// in-memory SQLite warehouse), through the job's real admin endpoint: its counts and rates,
// drain, and the state it ended in.
#include "console/job_watcher.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli_test_util.h"
#include "job/streaming_job.h"
#include "source/inproc_source.h"
#include "support/fake_clock.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using json = nlohmann::json;

TEST(LatencyQuantile, InterpolatesWithinTheBucketAsPrometheusDoes) {
  std::vector<std::uint64_t> counts(kLatencyBuckets.size() + 1, 0);
  EXPECT_FALSE(LatencyQuantile(counts, 0.5).has_value());
  counts[0] = 10;  // All within (0, 0.01].
  EXPECT_DOUBLE_EQ(*LatencyQuantile(counts, 0.5), 0.005);
  counts[1] = 10;  // And (0.01, 0.05].
  EXPECT_DOUBLE_EQ(*LatencyQuantile(counts, 0.5), 0.01);
  EXPECT_DOUBLE_EQ(*LatencyQuantile(counts, 0.75), 0.03);
  counts.back() = 1000;  // Beyond the largest bound: that bound, as histogram_quantile says.
  EXPECT_DOUBLE_EQ(*LatencyQuantile(counts, 0.99), kLatencyBuckets.back());
}

TEST(LatencyOver, TheMessagesCommittedWhileSamplesWereKeptElseSinceTheStart) {
  constexpr std::size_t kBuckets = kLatencyBuckets.size() + 1;
  auto sample = [](TimestampMicros at, std::vector<std::uint64_t> counts) {
    counts.resize(kBuckets, 0);
    return JobSample{.at = at, .latency_counts = std::move(counts)};
  };
  // 100 fast ones before the window, then 10 slow ones (in (1, 2.5] s) within it.
  std::deque<JobSample> samples = {sample(0, {100}), sample(2, {100, 0, 0, 0, 0, 0, 10})};
  WindowLatency latency = LatencyOver(samples);
  EXPECT_EQ(latency.messages, 10u);
  EXPECT_FALSE(latency.since_start);
  EXPECT_DOUBLE_EQ(*latency.p50, 1.75);
  // Nothing new in the window: everything since the start, and said so.
  samples = {sample(0, {100, 0, 0, 0, 0, 0, 10}), sample(2, {100, 0, 0, 0, 0, 0, 10})};
  latency = LatencyOver(samples);
  EXPECT_EQ(latency.messages, 110u);
  EXPECT_TRUE(latency.since_start);
  EXPECT_DOUBLE_EQ(*latency.p50, 0.01 * 55 / 100);
  EXPECT_FALSE(LatencyOver({}).p50.has_value());
}

class JobWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenWarehouse("sqlite::memory:");
    ASSERT_TRUE(opened.ok()) << opened.status();
    warehouse_ = std::move(*opened);
    ASSERT_TRUE(warehouse_->Setup().ok());
    job_ = std::jthread([this] {
      result_ = RunStreamingJob(
          source_, *warehouse_,
          StreamingOptions{.max_commit_delay = 0, .fail_on_commit_error = true},
          StreamingJobOptions{.warehouse = "sqlite::memory:", .state_dir = state_dir_});
    });
  }

  void TearDown() override {
    source_.Finish();  // A test that failed before its drain: the job ends with its source.
  }

  void Publish(int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(source_.Publish(fmt::format(
          R"({{"event_id":"e-{}","station_id":"S","ts_iso":"2024-10-07T00:00:00Z","kind":"pickup","delta":1}})",
          i)));
    }
  }

  // The watcher's view of the one job, once `ready` holds of it.
  json Until(const std::function<bool(const json&)>& ready) {
    for (int attempt = 0; attempt < 500; ++attempt) {
      watcher_.Sample();
      const json jobs = json::parse(watcher_.Jobs().body)["jobs"];
      if (jobs.size() == 1 && ready(jobs[0])) return jobs[0];
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "the watcher never saw it: " << watcher_.Jobs().body;
    return json();
  }

  e2e::TempDir dir_;
  std::filesystem::path state_dir_ = dir_ / "state";
  std::unique_ptr<Warehouse> warehouse_;
  InprocSource source_{"inproc:watched", 1024};
  absl::StatusOr<StreamingJobResult> result_;
  std::jthread job_;
  testing_support::FakeClock clock_{1'000 * kMicrosPerSecond};
  JobWatcher watcher_{{.state_dir = state_dir_, .clock = &clock_}};
};

TEST_F(JobWatcherTest, CountsRatesDrainAndTheStateTheJobEndedIn) {
  Publish(0, 100);
  json job = Until([](const json& j) { return j["stored"] == 100; });
  EXPECT_EQ(job["state"], "RUNNING");
  EXPECT_EQ(job["source"], "inproc:watched");
  EXPECT_TRUE(job["rates"]["t"].empty());  // One sample: no rate yet.

  clock_.Advance(2 * kMicrosPerSecond);
  Publish(100, 150);
  job = Until([](const json& j) { return j["stored"] == 150; });
  // Samples closer than half an interval replace each other: one rate, 50 events in 2 s.
  EXPECT_EQ(job["rates"]["stored"], json::array({25.0}));
  EXPECT_EQ(job["rates"]["received"], json::array({25.0}));
  EXPECT_EQ(job["rates"]["t"], json::array({1'002.0}));
  // The in-process broker stamps no publish time, so there is no latency to tell (the browser
  // test's push job has one).
  EXPECT_EQ(job["latency"]["messages"], 0);
  EXPECT_TRUE(job["latency"]["p99_seconds"].is_null());

  const std::string id = job["id"];
  EXPECT_EQ(watcher_.Act(id, "explode").status, 404);
  EXPECT_EQ(watcher_.Act("no-such-job", "drain").status, 404);
  EXPECT_EQ(watcher_.Act("", "drain").status, 400);  // Not "the only job there is".
  const ApiReply drained = watcher_.Act(id, "drain");
  EXPECT_EQ(drained.status, 202) << drained.body;
  job_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  EXPECT_EQ(result_->state, JobState::kDrained);
  job = Until([](const json& j) { return j["state"] == "DRAINED"; });
  EXPECT_FALSE(job["ended"].is_null());
  EXPECT_EQ(job["stored"], 150);  // What it last said.
}

}  // namespace
}  // namespace bikestream
