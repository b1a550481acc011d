// Scale-out: several ingest workers on one Pub/Sub subscription and one PostgreSQL database,
// through the real binary, against the real emulator and a real server. Exactly once in the
// table whatever happens to a worker or to the server.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "cli/cli_test_util.h"
#include "simulator/simulator.h"
#include "support/faulty_stream.h"
#include "support/postgres_server.h"
#include "support/pubsub_emulator.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using e2e::TempDir;
using testing_support::PubsubEmulator;
using testing_support::SharedEmulator;
using testing_support::SharedPostgres;

constexpr std::uint64_t kMessages = 100'000;
constexpr int kWorkers = 3;
constexpr int kPublishRate = 5'000;  // Messages/s: the stream lasts 20 s.
constexpr auto kConvergeTimeout = std::chrono::minutes(4);

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_PUBSUB_EMULATOR();
    REQUIRE_POSTGRES();
    setenv("PUBSUB_EMULATOR_HOST", SharedEmulator().host().c_str(), 1);
    setenv("BIKESTREAM_STATE_DIR", (dir_ / "state").c_str(), 1);
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    topic_ = "topic-" + name;
    subscription_ = "sub-" + name;
    url_ = SharedPostgres().CreateDatabase("scale_" +
                                           std::to_string(std::hash<std::string>()(name) % 100000));
    ASSERT_EQ(RunBikestream({"setup", "--project", PubsubEmulator::kProject, "--topic", topic_,
                             "--subscription", subscription_, "--ack-deadline", "10", "--warehouse",
                             url_}),
              0);
  }

  // Starts the workers and a publisher of `run_id`'s stream.
  void StartStream(std::uint64_t seed, const std::string& run_id) {
    for (int i = 0; i < kWorkers; ++i) {
      workers_.push_back(std::make_unique<Child>(
          std::vector<std::string>{"ingest", "--from", "pubsub", "--project",
                                   PubsubEmulator::kProject, "--subscription", subscription_,
                                   "--warehouse", url_, "--json", "--ack-deadline", "10"},
          dir_ / fmt::format("worker{}.out", i)));
    }
    std::vector<std::string> flags = {"simulate",
                                      "--to",
                                      "pubsub",
                                      "--project",
                                      PubsubEmulator::kProject,
                                      "--topic",
                                      topic_,
                                      "--rate",
                                      std::to_string(kPublishRate)};
    const auto stream = e2e::FaultyStreamFlags(seed, run_id, kMessages);
    flags.insert(flags.end(), stream.begin(), stream.end());
    publisher_ = std::make_unique<Child>(flags, dir_ / "publisher.out");
  }

  std::int64_t Count(const std::string& sql) {
    auto warehouse = OpenWarehouse(url_);
    if (!warehouse.ok()) return -1;
    auto result = (*warehouse)->Query(sql);
    return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
  }

  bool WaitForCounts(const SimulatorStats& expected) {
    return e2e::WaitUntil(
        [&] {
          return Count("SELECT count(*) FROM raw_events") == std::int64_t(expected.valid) &&
                 Count("SELECT count(*) FROM dead_letter") == std::int64_t(expected.invalid);
        },
        kConvergeTimeout);
  }

  void ExpectExactlyOnce(const SimulatorStats& expected) {
    EXPECT_EQ(Count("SELECT count(*) FROM raw_events"), std::int64_t(expected.valid));
    EXPECT_EQ(Count("SELECT count(DISTINCT event_id) FROM raw_events"),
              std::int64_t(expected.valid));
    EXPECT_EQ(Count("SELECT count(*) FROM raw_events_ids"), std::int64_t(expected.valid));
    EXPECT_EQ(Count("SELECT count(*) FROM dead_letter"), std::int64_t(expected.invalid));
  }

  // Drains every worker still running; each must exit 0.
  void DrainWorkers() {
    for (auto& worker : workers_) {
      if (!worker->Running()) continue;
      worker->Signal(SIGTERM);
      EXPECT_EQ(worker->Wait(), 0);
    }
  }

  TempDir dir_;
  std::string topic_, subscription_, url_;
  std::vector<std::unique_ptr<Child>> workers_;
  std::unique_ptr<Child> publisher_;
};

TEST_F(ScaleOutTest, ThreeWorkersOneKilledWithNineMidStreamStoreEachEventOnce) {
  StartStream(11, "scale_kill");
  std::this_thread::sleep_for(std::chrono::seconds(6));
  workers_[0]->Kill9();  // Its leased messages come back to the others after the deadline.
  EXPECT_EQ(workers_[0]->Wait(), 128 + SIGKILL);
  ASSERT_EQ(publisher_->Wait(), 0) << e2e::ReadFile(dir_ / "publisher.out.err");
  const SimulatorStats expected = e2e::ExpectedFaultyStream(11, "scale_kill", kMessages);
  EXPECT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("SELECT count(*) FROM raw_events") << " of " << expected.valid;
  for (int i = 1; i < kWorkers; ++i)
    EXPECT_TRUE(workers_[i]->Running()) << "worker " << i << " exited";
  DrainWorkers();
  ExpectExactlyOnce(expected);
}

TEST_F(ScaleOutTest, ThePostgresServerDownForTwentySecondsMidStreamLosesNothing) {
  StartStream(12, "scale_outage");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const std::int64_t before = Count("SELECT count(*) FROM raw_events");
  SharedPostgres().Stop();
  std::this_thread::sleep_for(std::chrono::seconds(20));
  for (int i = 0; i < kWorkers; ++i)
    EXPECT_TRUE(workers_[i]->Running()) << "worker " << i << " exited";
  SharedPostgres().Start();
  ASSERT_TRUE(SharedPostgres().ready()) << SharedPostgres().error();
  ASSERT_EQ(publisher_->Wait(), 0) << e2e::ReadFile(dir_ / "publisher.out.err");
  const SimulatorStats expected = e2e::ExpectedFaultyStream(12, "scale_outage", kMessages);
  EXPECT_GT(before, 0) << "the outage came before any commit: it tested nothing";
  EXPECT_LT(before, std::int64_t(expected.valid)) << "the outage came after the stream";
  EXPECT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("SELECT count(*) FROM raw_events") << " of " << expected.valid;
  for (int i = 0; i < kWorkers; ++i)
    EXPECT_TRUE(workers_[i]->Running()) << "worker " << i << " exited";
  DrainWorkers();
  ExpectExactlyOnce(expected);
}

}  // namespace
}  // namespace bikestream
