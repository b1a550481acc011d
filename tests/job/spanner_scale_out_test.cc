// Scale-out on Spanner: three ingest workers on one Pub/Sub subscription and one Spanner
// database, through the real binary, against Google's Pub/Sub and Spanner emulators; one worker
// killed with -9 mid-stream, duplicates and bad input in the stream. raw_events and dead_letter
// hold each event and each bad message exactly once.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "cli/cli_test_util.h"
#include "support/faulty_stream.h"
#include "support/pubsub_emulator.h"
#include "support/spanner_emulator.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using testing_support::PubsubEmulator;
using testing_support::SharedEmulator;
using testing_support::SharedSpannerEmulator;

constexpr std::uint64_t kMessages = 20'000;
constexpr int kWorkers = 3;
constexpr int kPublishRate = 2'000;  // Messages/s: the stream lasts 10 s.
constexpr auto kConvergeTimeout = std::chrono::minutes(4);

class SpannerScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_PUBSUB_EMULATOR();
    REQUIRE_SPANNER(SharedSpannerEmulator());
    setenv("PUBSUB_EMULATOR_HOST", SharedEmulator().host().c_str(), 1);
    setenv("SPANNER_EMULATOR_HOST", SharedSpannerEmulator().host().c_str(), 1);
    setenv("BIKESTREAM_STATE_DIR", (dir_ / "state").c_str(), 1);
    const spanner::ClientOptions database = SharedSpannerEmulator().FreshDatabase();
    url_ =
        fmt::format("spanner://{}/{}/{}", database.project, database.instance, database.database);
    ASSERT_EQ(RunBikestream({"setup", "--project", PubsubEmulator::kProject, "--topic", "spanner",
                             "--subscription", "spanner-ingest", "--ack-deadline", "10",
                             "--warehouse", url_}),
              0);
  }

  std::int64_t Count(const std::string& sql) {
    auto warehouse = OpenWarehouse(url_);
    if (!warehouse.ok()) return -1;
    auto result = (*warehouse)->Query(sql);
    return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
  }

  e2e::TempDir dir_;
  std::string url_;
};

TEST_F(SpannerScaleOutTest, ThreeWorkersOneKilledWithNineMidStreamStoreEachEventOnce) {
  std::vector<std::unique_ptr<Child>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(std::make_unique<Child>(
        std::vector<std::string>{"ingest", "--from", "pubsub", "--project",
                                 PubsubEmulator::kProject, "--subscription", "spanner-ingest",
                                 "--warehouse", url_, "--json", "--ack-deadline", "10"},
        dir_ / fmt::format("worker{}.out", i)));
  }
  std::vector<std::string> publish = {"simulate",
                                      "--to",
                                      "pubsub",
                                      "--project",
                                      PubsubEmulator::kProject,
                                      "--topic",
                                      "spanner",
                                      "--rate",
                                      std::to_string(kPublishRate)};
  const auto stream = e2e::FaultyStreamFlags(21, "spanner_kill", kMessages);
  publish.insert(publish.end(), stream.begin(), stream.end());
  Child publisher(publish, dir_ / "publisher.out");

  std::this_thread::sleep_for(std::chrono::seconds(4));
  const std::int64_t before = Count("SELECT count(*) FROM raw_events");
  workers[0]->Kill9();  // Its leased messages come back to the others after the deadline.
  EXPECT_EQ(workers[0]->Wait(), 128 + SIGKILL);
  ASSERT_EQ(publisher.Wait(), 0) << e2e::ReadFile(dir_ / "publisher.out.err");

  const SimulatorStats expected = e2e::ExpectedFaultyStream(21, "spanner_kill", kMessages);
  EXPECT_GT(before, 0) << "the kill came before any commit: it tested nothing";
  EXPECT_TRUE(e2e::WaitUntil(
      [&] {
        return Count("SELECT count(*) FROM raw_events") == std::int64_t(expected.valid) &&
               Count("SELECT count(*) FROM dead_letter") == std::int64_t(expected.invalid);
      },
      kConvergeTimeout))
      << "raw_events " << Count("SELECT count(*) FROM raw_events") << " of " << expected.valid
      << ", dead_letter " << Count("SELECT count(*) FROM dead_letter") << " of "
      << expected.invalid;
  for (int i = 1; i < kWorkers; ++i) {
    EXPECT_TRUE(workers[i]->Running()) << "worker " << i << " exited";
    workers[i]->Signal(SIGTERM);
    EXPECT_EQ(workers[i]->Wait(), 0) << e2e::ReadFile(dir_ / fmt::format("worker{}.out.err", i));
  }
  EXPECT_EQ(Count("SELECT count(*) FROM raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("SELECT count(DISTINCT event_id) FROM raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("SELECT count(*) FROM dead_letter"), std::int64_t(expected.invalid));
  EXPECT_EQ(Count("SELECT count(DISTINCT message_id) FROM dead_letter"),
            std::int64_t(expected.invalid));
}

}  // namespace
}  // namespace bikestream
