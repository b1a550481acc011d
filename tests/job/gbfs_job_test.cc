// The gbfs job on recorded Oslo snapshots: every change handed on once, to a publisher or into
// the warehouse, the stations table kept, and the checks that name the flag to fix.
#include "job/gbfs_job.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/oslo_week.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

// Keeps what it is sent; fails every Send once `fail` is set.
class CollectingPublisher final : public MessagePublisher {
 public:
  absl::Status Send(const std::string& payload) override {
    if (fail) return absl::UnavailableError("could not write to stdout: Broken pipe");
    sent.push_back(payload);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  std::vector<std::string> sent;
  bool fail = false;
};

class GbfsJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing_support::WriteSnapshotFile(testing_support::FirstOsloSnapshots(30), file_);
  }
  void TearDown() override { std::filesystem::remove(file_); }
  GbfsJobOptions Options() {
    return {.feed = file_, .system = "oslobysykkel", .interrupted = [] { return false; }};
  }
  // A file of the test's own: ctest runs this suite's tests side by side.
  const std::string name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const std::string file_ =
      ::testing::TempDir() + "/gbfs_job_test-" + std::to_string(getpid()) + "-" + name_ + ".jsonl";
};

TEST_F(GbfsJobTest, PublishesEveryChangeOfAReplayOnce) {
  CollectingPublisher publisher;
  GbfsJobOptions options = Options();
  options.publisher = &publisher;
  ASSERT_TRUE(CheckGbfsJob(options).ok());
  auto result = RunGbfsJob(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->error.ok()) << result->error;
  EXPECT_TRUE(result->published.ok());
  EXPECT_EQ(result->stats.snapshots, 30u);
  EXPECT_GT(result->stats.events(), 0u);
  ASSERT_EQ(publisher.sent.size(), result->stats.events());
  ASSERT_FALSE(publisher.sent.empty());
  EXPECT_NE(publisher.sent.front().find("\"event_id\":\"oslobysykkel:"), std::string::npos);
}

TEST_F(GbfsJobTest, CommitsAReplayIntoTheWarehouseExactlyOnce) {
  auto sink = *OpenWarehouse("sqlite::memory:");
  ASSERT_TRUE(sink->Setup().ok());
  StagedIngest ingest(*sink, *sink, {.source = "gbfs:test"});
  GbfsJobOptions options = Options();
  options.warehouse = &ingest;
  auto first = RunGbfsJob(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->pending, 0u);
  auto again = RunGbfsJob(options);  // The same file again: the same ids, stored once.
  ASSERT_TRUE(again.ok()) << again.status();
  auto stored = sink->Query("SELECT count(*) FROM raw_events");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->rows[0][0].text, std::to_string(first->stats.events()));
}

TEST_F(GbfsJobTest, StopsWhenAPublisherThatCannotRecoverFails) {
  CollectingPublisher publisher;
  publisher.fail = true;
  GbfsJobOptions options = Options();
  options.publisher = &publisher;
  options.stop_when_publishing_fails = true;
  auto result = RunGbfsJob(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->published.ok());
  EXPECT_LT(result->stats.snapshots, 30u);  // Stopped, not retried to the end.
}

TEST_F(GbfsJobTest, ChecksNameTheFlagToFix) {
  GbfsJobOptions options = Options();
  options.system = "oslo bysykkel";
  EXPECT_NE(CheckGbfsJob(options).message().find("--system"), std::string::npos);
  options = Options();
  options.station_information = "https://example.com/station_information.json";
  EXPECT_NE(CheckGbfsJob(options).message().find("--station-information"), std::string::npos);
  options = Options();
  options.feed = "https://example.com/gbfs.json";
  options.speedup = 60;
  EXPECT_NE(CheckGbfsJob(options).message().find("--speedup"), std::string::npos);
  options = Options();
  options.feed = "/nonexistent/snapshots.jsonl";
  EXPECT_NE(CheckGbfsJob(options).message().find("no such file"), std::string::npos);
  EXPECT_NE(GbfsSystemOf(
                file_, [] { return false; }, nullptr)
                .status()
                .message()
                .find("--system"),
            std::string::npos);
}

TEST_F(GbfsJobTest, TakesExactlyOneDestination) {
  EXPECT_EQ(RunGbfsJob(Options()).status().code(), absl::StatusCode::kInvalidArgument);
  CollectingPublisher publisher;
  auto sink = *OpenWarehouse("sqlite::memory:");
  ASSERT_TRUE(sink->Setup().ok());
  StagedIngest ingest(*sink, *sink, {.source = "gbfs:test"});
  GbfsJobOptions both = Options();
  both.publisher = &publisher;
  both.warehouse = &ingest;
  EXPECT_EQ(RunGbfsJob(both).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(publisher.sent.empty());
}

}  // namespace
}  // namespace bikestream
