// The streaming job on an MQTT topic through the real binary, against Debian's mosquitto:
// exact counts under duplicates, bad input and kill -9; drain; real GBFS data published twice.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <random>
#include <set>
#include <thread>

#include "cli/cli_test_util.h"
#include "support/faulty_stream.h"
#include "support/mosquitto_broker.h"
#include "support/oslo_week.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using e2e::TempDir;
using testing_support::MosquittoBroker;

constexpr auto kConvergeTimeout = std::chrono::seconds(120);

class MqttJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_MOSQUITTO(broker_);
    setenv("BIKESTREAM_STATE_DIR", (dir_ / "state").c_str(), 1);  // Jobs register here.
    db_ = dir_ / "job.db";
  }

  std::vector<std::string> WorkerFlags() {
    return {"ingest",      "--from",        url_,    "--client-id", "ingest",
            "--warehouse", "sqlite:" + db_, "--json"};
  }

  // A worker, once it is receiving (its session exists at the broker from then on).
  std::unique_ptr<Child> StartWorker(const std::string& name, std::vector<std::string> extra = {}) {
    auto flags = WorkerFlags();
    flags.insert(flags.end(), extra.begin(), extra.end());
    auto worker = std::make_unique<Child>(flags, dir_ / name);
    EXPECT_TRUE(e2e::WaitUntil(
        [&] {
          return e2e::ReadFile(dir_ / (name + ".err")).find("receiving from") != std::string::npos;
        },
        std::chrono::seconds(20)))
        << e2e::ReadFile(dir_ / (name + ".err"));
    return worker;
  }

  std::vector<std::string> PublishFlags(std::uint64_t seed, const std::string& run_id,
                                        std::uint64_t count) {
    std::vector<std::string> flags = {"simulate", "--to", url_};
    const auto stream = e2e::FaultyStreamFlags(seed, run_id, count);
    flags.insert(flags.end(), stream.begin(), stream.end());
    return flags;
  }

  std::int64_t Count(const std::string& table) {
    auto warehouse = OpenWarehouse("sqlite:" + db_);
    if (!warehouse.ok()) return -1;
    auto result = (*warehouse)->Query("SELECT count(*) FROM " + table);
    return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
  }

  bool WaitForCounts(std::int64_t events, std::int64_t dead_letters) {
    return e2e::WaitUntil(
        [&] { return Count("raw_events") == events && Count("dead_letter") == dead_letters; },
        kConvergeTimeout);
  }

  static std::uint64_t Received(const std::string& summary) {
    const auto at = summary.find("\"received\":");
    return at == std::string::npos ? 0 : std::stoull(summary.substr(at + 11));
  }

  MosquittoBroker broker_;
  TempDir dir_;
  std::string db_;
  std::string url_ = broker_.Url("bikes/events");
};

// MQTT gives a message no id: a bad message is one dead letter per distinct payload, however
// often it is delivered.
std::int64_t DistinctInvalid(std::uint64_t seed, const std::string& run_id, std::uint64_t count) {
  Simulator simulator = e2e::FaultyStreamSimulator(seed, run_id);
  std::set<std::string> invalid;
  for (std::uint64_t i = 0; i < count; ++i) {
    SimulatedMessage message = simulator.Next();
    if (message.kind == MessageKind::kInvalid) invalid.insert(std::move(message.payload));
  }
  return std::int64_t(invalid.size());
}

TEST_F(MqttJobTest, KillNineDuringAStreamOf100kLosesAndDoublesNothing) {
  constexpr std::uint64_t kMessages = 100'000;
  StartWorker("first.out")->Kill9();
  auto flags = PublishFlags(11, "mqtt_kill", kMessages);
  flags.insert(flags.end(), {"--rate", "25000"});  // Four seconds of stream to kill workers in.
  Child publisher(flags, dir_ / "publisher.out");
  std::mt19937 random(std::random_device{}());
  int killed = 0;
  for (int round = 0; round < 5; ++round) {
    auto worker = StartWorker(fmt::format("worker{}.out", round));
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 900));
    worker->Kill9();
    if (worker->Wait() == 128 + SIGKILL) ++killed;
  }
  EXPECT_EQ(killed, 5);
  ASSERT_EQ(publisher.Wait(), 0) << e2e::ReadFile(dir_ / "publisher.out.err");
  EXPECT_NE(e2e::ReadFile(dir_ / "publisher.out.err")
                .find(fmt::format("published {} messages", kMessages)),
            std::string::npos);
  ASSERT_GT(Count("raw_events"), 0) << "no worker committed anything before it was killed";

  const SimulatorStats expected = e2e::ExpectedFaultyStream(11, "mqtt_kill", kMessages);
  const std::int64_t dead_letters = DistinctInvalid(11, "mqtt_kill", kMessages);
  auto survivor = StartWorker("survivor.out");
  EXPECT_TRUE(WaitForCounts(std::int64_t(expected.valid), dead_letters))
      << "raw_events " << Count("raw_events") << " of " << expected.valid << ", dead_letter "
      << Count("dead_letter") << " of " << dead_letters;
  survivor->Signal(SIGTERM);
  EXPECT_EQ(survivor->Wait(), 0);
  EXPECT_NE(e2e::ReadFile(dir_ / "survivor.out.err").find("job DRAINED"), std::string::npos);
  EXPECT_EQ(Count("raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("dead_letter"), dead_letters);
  // Each dead letter names its reason and the topic it came from.
  auto warehouse = *OpenWarehouse("sqlite:" + db_);
  auto unnamed = warehouse->Query(
      "SELECT count(*) FROM dead_letter WHERE reason = '' OR source NOT LIKE 'mqtt://%'");
  ASSERT_TRUE(unnamed.ok()) << unnamed.status();
  EXPECT_EQ(unnamed->rows[0][0].text, "0");
}

// A drained worker has the broker acknowledge what it committed: the next one gets exactly the
// rest.
TEST_F(MqttJobTest, DrainHasTheBrokerAcknowledgeEverythingCommitted) {
  constexpr std::uint64_t kMessages = 30'000;
  StartWorker("setup.out")->Kill9();  // The session, so that the broker keeps what comes.
  ASSERT_EQ(RunBikestream(PublishFlags(12, "mqtt_drain", kMessages)), 0);
  auto first =
      StartWorker("first.out", {"--max-outstanding-messages", "500", "--batch-size", "500"});
  ASSERT_TRUE(e2e::WaitUntil([&] { return Count("raw_events") > 0; }, kConvergeTimeout));
  first->Signal(SIGTERM);
  ASSERT_EQ(first->Wait(), 0);
  EXPECT_NE(e2e::ReadFile(dir_ / "first.out.err").find("job DRAINED"), std::string::npos);
  const std::uint64_t first_received = Received(e2e::ReadFile(dir_ / "first.out"));
  ASSERT_GT(first_received, 0u);
  ASSERT_LT(first_received, kMessages) << "the drain came too late to test anything";

  auto second = StartWorker("second.out");
  const SimulatorStats expected = e2e::ExpectedFaultyStream(12, "mqtt_drain", kMessages);
  ASSERT_TRUE(
      WaitForCounts(std::int64_t(expected.valid), DistinctInvalid(12, "mqtt_drain", kMessages)));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // Time for a repeat, were there one.
  second->Signal(SIGTERM);
  ASSERT_EQ(second->Wait(), 0);
  EXPECT_EQ(first_received + Received(e2e::ReadFile(dir_ / "second.out")), kMessages);
}

// Real data through MQTT: two days of the Oslo week published by `gbfs --to mqtt://…`, then the
// same file again (a re-read: the same ids), land each change once; the admin endpoint reports
// the job as for Pub/Sub.
TEST_F(MqttJobTest, GbfsChangesPublishedTwiceAreStoredOnce) {
  const auto snapshots = testing_support::FirstOsloSnapshots(150);
  const std::string file = dir_ / "two-days.jsonl";
  testing_support::WriteSnapshotFile(snapshots, file);
  const auto changes = testing_support::ExpectedChanges(snapshots, "oslobysykkel");
  const int port = testing_support::FreeLoopbackPort();
  auto worker = StartWorker("worker.out", {"--admin", fmt::format("127.0.0.1:{}", port)});
  const std::vector<std::string> publish = {"gbfs", file, "--system", "oslobysykkel", "--to", url_};
  std::string err;
  ASSERT_EQ(RunBikestream(publish, nullptr, "/dev/null", &err), 0) << err;
  EXPECT_NE(err.find(fmt::format("published {} messages to {} (QoS 1)", changes.size(), url_)),
            std::string::npos)
      << err;
  ASSERT_EQ(RunBikestream(publish), 0);
  httplib::Client admin("127.0.0.1", port);
  ASSERT_TRUE(e2e::WaitUntil(
      [&] {
        auto job = admin.Get("/job");
        return job && job->body.find(fmt::format("\"duplicates\":{}", changes.size())) !=
                          std::string::npos;
      },
      kConvergeTimeout))
      << Count("raw_events") << " of " << changes.size();
  auto job = admin.Get("/job");
  ASSERT_TRUE(job);
  EXPECT_NE(job->body.find("\"state\":\"RUNNING\""), std::string::npos) << job->body;
  EXPECT_NE(job->body.find("mqtt://127.0.0.1"), std::string::npos) << job->body;
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->Wait(), 0);
  EXPECT_EQ(Count("raw_events"), std::int64_t(changes.size()));
  EXPECT_EQ(Count("dead_letter"), 0);
}

TEST_F(MqttJobTest, MistakesGetErrorsThatNameTheFix) {
  std::string err;
  EXPECT_EQ(RunBikestream({"ingest", "--from", url_, "--warehouse", "sqlite:" + db_}, nullptr,
                          "/dev/null", &err),
            1);
  EXPECT_NE(err.find("give --client-id NAME"), std::string::npos) << err;
  const std::string nobody =
      fmt::format("mqtt://127.0.0.1:{}/t", testing_support::FreeLoopbackPort());
  EXPECT_NE(RunBikestream(
                {"ingest", "--from", nobody, "--client-id", "c", "--warehouse", "sqlite:" + db_},
                nullptr, "/dev/null", &err),
            0);
  EXPECT_NE(err.find("cannot connect to the MQTT broker at 127.0.0.1"), std::string::npos) << err;
  EXPECT_NE(RunBikestream({"simulate", "--to", nobody, "--count", "1"}, nullptr, "/dev/null", &err),
            0);
  EXPECT_NE(err.find("cannot connect to the MQTT broker"), std::string::npos) << err;
  EXPECT_NE(
      RunBikestream({"simulate", "--to", "mqtt:/oops", "--count", "1"}, nullptr, "/dev/null", &err),
      0);
  EXPECT_NE(err.find("is not a destination"), std::string::npos) << err;
  EXPECT_NE(RunBikestream({"simulate", "--to", broker_.Url("a/+"), "--count", "1"}, nullptr,
                          "/dev/null", &err),
            0);
  EXPECT_NE(err.find("+ and # are for subscribing"), std::string::npos) << err;
}

}  // namespace
}  // namespace bikestream
