// Scale-out on BigQuery (issue 36): four ingest workers on one Pub/Sub subscription and one
// dataset, through the real binary, against Google's Pub/Sub emulator and the tests' BigQuery
// stand-in with transactions that take time and cancel each other as BigQuery's do. One worker
// is killed with -9 mid-stream; the stream has duplicates and bad input. raw_events and
// dead_letter hold each event and each bad message exactly once, no merge is cancelled for a
// concurrent one, and merges take several workers' batches.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "cli/cli_test_util.h"
#include "support/bigquery_sqlite.h"
#include "support/bigquery_stand_in.h"
#include "support/faulty_stream.h"
#include "support/pubsub_emulator.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using e2e::ScopedEnv;
using testing_support::BigQuerySqliteEngine;
using testing_support::BigQueryStandIn;
using testing_support::PubsubEmulator;
using testing_support::SharedEmulator;

constexpr std::uint64_t kMessages = 20'000;
constexpr int kWorkers = 4;
constexpr int kPublishRate = 2'000;  // Messages/s: the stream lasts 10 s.
constexpr auto kConvergeTimeout = std::chrono::minutes(4);
constexpr char kWarehouse[] = "bigquery://test-project/scale_out";

class BigQueryScaleOutTest : public ::testing::Test {
 protected:
  BigQueryScaleOutTest()
      : stand_in_({.token = "worker-token", .transaction_time = std::chrono::milliseconds(500)},
                  std::make_unique<BigQuerySqliteEngine>()) {}

  void SetUp() override {
    REQUIRE_PUBSUB_EMULATOR();
    setenv("PUBSUB_EMULATOR_HOST", SharedEmulator().host().c_str(), 1);
    setenv("BIKESTREAM_STATE_DIR", (dir_ / "state").c_str(), 1);
    std::string out;
    std::string err;
    ASSERT_EQ(RunBikestream({"setup", "--project", PubsubEmulator::kProject, "--topic", "bq-events",
                             "--subscription", "bq-ingest", "--ack-deadline", "10", "--warehouse",
                             kWarehouse, "--bigquery-endpoint", stand_in_.url()},
                            &out, "/dev/null", &err),
              0)
        << err;
  }

  std::int64_t Count(const std::string& sql) {
    auto warehouse = OpenWarehouse(fmt::format("{}?endpoint={}", kWarehouse, stand_in_.url()));
    if (!warehouse.ok()) return -1;
    auto result = (*warehouse)->Query(sql);
    return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
  }

  std::size_t JobsNamed(const std::string& prefix) const {
    const auto ids = stand_in_.job_ids();
    return std::size_t(std::count_if(
        ids.begin(), ids.end(), [&](const std::string& id) { return id.starts_with(prefix); }));
  }

  BigQueryStandIn stand_in_;
  ScopedEnv token_{"GOOGLE_OAUTH_ACCESS_TOKEN", "worker-token"};
  e2e::TempDir dir_;
};

TEST_F(BigQueryScaleOutTest, FourWorkersOneKilledWithNineStoreEachEventOnceAndNoneIsCancelled) {
  std::vector<std::unique_ptr<Child>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(std::make_unique<Child>(
        std::vector<std::string>{"ingest", "--from", "pubsub", "--project",
                                 PubsubEmulator::kProject, "--subscription", "bq-ingest",
                                 "--warehouse", kWarehouse, "--bigquery-endpoint", stand_in_.url(),
                                 "--max-commit-delay", "2", "--json", "--ack-deadline", "10"},
        dir_ / fmt::format("worker{}.out", i)));
  }
  std::vector<std::string> publish = {"simulate",
                                      "--to",
                                      "pubsub",
                                      "--project",
                                      PubsubEmulator::kProject,
                                      "--topic",
                                      "bq-events",
                                      "--rate",
                                      std::to_string(kPublishRate)};
  const auto stream = e2e::FaultyStreamFlags(36, "bq_kill", kMessages);
  publish.insert(publish.end(), stream.begin(), stream.end());
  Child publisher(publish, dir_ / "publisher.out");

  std::this_thread::sleep_for(std::chrono::seconds(4));
  const std::int64_t before = Count("SELECT COUNT(*) FROM raw_events");
  workers[0]->Kill9();  // Its leased messages come back to the others after the deadline.
  EXPECT_EQ(workers[0]->Wait(), 128 + SIGKILL);
  ASSERT_EQ(publisher.Wait(), 0) << e2e::ReadFile(dir_ / "publisher.out.err");

  const SimulatorStats expected = e2e::ExpectedFaultyStream(36, "bq_kill", kMessages);
  EXPECT_GT(before, 0) << "the kill came before any commit: it tested nothing";
  EXPECT_TRUE(e2e::WaitUntil(
      [&] {
        return Count("SELECT COUNT(*) FROM raw_events") == std::int64_t(expected.valid) &&
               Count("SELECT COUNT(*) FROM dead_letter") == std::int64_t(expected.invalid);
      },
      kConvergeTimeout))
      << "raw_events " << Count("SELECT COUNT(*) FROM raw_events") << " of " << expected.valid
      << ", dead_letter " << Count("SELECT COUNT(*) FROM dead_letter") << " of "
      << expected.invalid;
  for (int i = 1; i < kWorkers; ++i) {
    EXPECT_TRUE(workers[i]->Running()) << "worker " << i << " exited";
    workers[i]->Signal(SIGTERM);
    EXPECT_EQ(workers[i]->Wait(), 0) << e2e::ReadFile(dir_ / fmt::format("worker{}.out.err", i));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT event_id) FROM raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM dead_letter"), std::int64_t(expected.invalid));
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT message_id) FROM dead_letter"),
            std::int64_t(expected.invalid));
  EXPECT_EQ(stand_in_.cancelled_for_concurrent_update(), 0);
  EXPECT_EQ(stand_in_.invalid_requests(), 0);
  // Merges take several workers' batches: fewer merges than batches staged.
  const std::size_t staged = JobsNamed("bikestream_stage_");
  const std::size_t merges = JobsNamed("bikestream_merge_");
  EXPECT_GT(merges, 0u);
  EXPECT_LT(merges, staged);
  std::cout << fmt::format("{} batches staged, {} merge jobs\n", staged, merges);
}

}  // namespace
}  // namespace bikestream
