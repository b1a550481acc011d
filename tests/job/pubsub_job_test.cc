// The streaming job through the real binary, against the real Pub/Sub emulator: exact counts
// under duplicates, bad input, kill -9, several workers, drain and cancel.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <random>
#include <thread>

#include "cli/cli_test_util.h"
#include "simulator/simulator.h"
#include "support/faulty_stream.h"
#include "support/google_token_server.h"
#include "support/loopback_server.h"
#include "support/oslo_week.h"
#include "support/pubsub_emulator.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using e2e::TempDir;
using testing_support::PubsubEmulator;
using testing_support::SharedEmulator;

constexpr std::uint64_t kMessages = 50'000;
constexpr auto kConvergeTimeout = std::chrono::seconds(120);

SimulatorStats Expected(std::uint64_t seed, const std::string& run_id,
                        std::uint64_t count = kMessages) {
  return e2e::ExpectedFaultyStream(seed, run_id, count);
}

// One topic and subscription per test, and the flags that name them.
class PubsubJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_PUBSUB_EMULATOR();
    setenv("PUBSUB_EMULATOR_HOST", SharedEmulator().host().c_str(), 1);
    setenv("BIKESTREAM_STATE_DIR", (dir_ / "state").c_str(), 1);  // Jobs register here.
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    topic_ = "topic-" + name;
    subscription_ = "sub-" + name;
    db_ = dir_ / "job.db";
    // The shortest ack deadline, so a killed worker's messages come back quickly.
    ASSERT_EQ(RunBikestream({"setup", "--project", PubsubEmulator::kProject, "--topic", topic_,
                             "--subscription", subscription_, "--ack-deadline", "10", "--warehouse",
                             "sqlite:" + db_}),
              0);
  }

  std::vector<std::string> PublishFlags(std::uint64_t seed, const std::string& run_id,
                                        std::optional<int> rate = std::nullopt,
                                        std::uint64_t count = kMessages) {
    std::vector<std::string> flags = {
        "simulate", "--to", "pubsub", "--project", PubsubEmulator::kProject, "--topic", topic_};
    const auto stream = e2e::FaultyStreamFlags(seed, run_id, count);
    flags.insert(flags.end(), stream.begin(), stream.end());
    if (rate) {
      flags.emplace_back("--rate");
      flags.push_back(std::to_string(*rate));
    }
    return flags;
  }

  std::vector<std::string> WorkerFlags() {
    return {
        "ingest",         "--from",      "pubsub",      "--project",     PubsubEmulator::kProject,
        "--subscription", subscription_, "--warehouse", "sqlite:" + db_, "--json",
        "--ack-deadline", "10"};
  }

  std::int64_t Count(const std::string& table) {
    auto warehouse = OpenWarehouse("sqlite:" + db_);
    if (!warehouse.ok()) return -1;
    auto result = (*warehouse)->Query("SELECT count(*) FROM " + table);
    return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
  }

  // Waits until the tables hold the expected counts (or the timeout passes).
  bool WaitForCounts(const SimulatorStats& expected) {
    return e2e::WaitUntil(
        [&] {
          return Count("raw_events") == std::int64_t(expected.valid) &&
                 Count("dead_letter") == std::int64_t(expected.invalid);
        },
        kConvergeTimeout);
  }

  // Starts `count` workers on one subscription during a stream; checks exact counts.
  void RunWorkers(int count);

  // Drains a worker and returns its exit code.
  static int Drain(Child& worker) {
    worker.Signal(SIGTERM);
    return worker.Wait();
  }

  TempDir dir_;
  std::string topic_, subscription_, db_;
};

TEST_F(PubsubJobTest, StoresExactlyTheUniqueValidEventsAndDeadLettersTheInvalid) {
  ASSERT_EQ(RunBikestream(PublishFlags(1, "exact")), 0);
  const SimulatorStats expected = Expected(1, "exact");
  Child worker(WorkerFlags(), dir_ / "worker.out");
  ASSERT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("raw_events") << " of " << expected.valid << ", dead_letter "
      << Count("dead_letter") << " of " << expected.invalid;
  EXPECT_EQ(Drain(worker), 0);
  const std::string out = e2e::ReadFile(dir_ / "worker.out");
  EXPECT_NE(out.find(fmt::format("\"stored\":{}", expected.valid)), std::string::npos) << out;
  EXPECT_NE(e2e::ReadFile(dir_ / "worker.out.err").find("job DRAINED"), std::string::npos);
  // Dead letters carry the Pub/Sub message id and publish time.
  auto warehouse = *OpenWarehouse("sqlite:" + db_);
  auto row = warehouse->Query(
      "SELECT count(*) FROM dead_letter WHERE message_id != '' AND publish_time > "
      "'1970-01-01T00:00:00Z'");
  EXPECT_EQ(row->rows[0][0].text, std::to_string(expected.invalid));
}

// Real data through Pub/Sub: two days of the Oslo week published by `gbfs --to pubsub`, then
// the same file again (a re-read: the same ids), land each change once.
TEST_F(PubsubJobTest, GbfsChangesPublishedTwiceAreStoredOnce) {
  const auto snapshots = testing_support::FirstOsloSnapshots(150);
  const std::string file = dir_ / "two-days.jsonl";
  testing_support::WriteSnapshotFile(snapshots, file);
  const auto changes = testing_support::ExpectedChanges(snapshots, "oslobysykkel");
  std::int64_t bikes = 0;
  for (const auto& change : changes) bikes += std::get<4>(change);
  const std::vector<std::string> publish = {
      "gbfs",    file,     "--system",  "oslobysykkel",
      "--to",    "pubsub", "--project", PubsubEmulator::kProject,
      "--topic", topic_};
  std::string err;
  ASSERT_EQ(RunBikestream(publish, nullptr, "/dev/null", &err), 0) << err;
  EXPECT_NE(err.find(fmt::format("published {} messages", changes.size())), std::string::npos)
      << err;
  ASSERT_EQ(RunBikestream(publish), 0);
  const int port = testing_support::FreeLoopbackPort();
  auto flags = WorkerFlags();
  flags.insert(flags.end(), {"--admin", fmt::format("127.0.0.1:{}", port)});
  Child worker(flags, dir_ / "worker.out");
  // Every repeat received and absorbed, before the drain.
  httplib::Client admin("127.0.0.1", port);
  ASSERT_TRUE(e2e::WaitUntil(
      [&] {
        auto job = admin.Get("/job");
        return job && job->body.find(fmt::format("\"duplicates\":{}", changes.size())) !=
                          std::string::npos;
      },
      kConvergeTimeout))
      << Count("raw_events") << " of " << changes.size();
  EXPECT_EQ(Drain(worker), 0);
  const std::string out = e2e::ReadFile(dir_ / "worker.out");
  EXPECT_NE(out.find(fmt::format("\"duplicates\":{}", changes.size())), std::string::npos) << out;
  EXPECT_EQ(Count("raw_events"), std::int64_t(changes.size()));
  EXPECT_EQ(Count("dead_letter"), 0);
  auto warehouse = *OpenWarehouse("sqlite:" + db_);
  EXPECT_EQ(warehouse->Query("SELECT SUM(delta) FROM raw_events")->rows[0][0].text,
            std::to_string(bikes));
}

TEST_F(PubsubJobTest, KillNineFiveTimesDuringAStreamLosesAndDoublesNothing) {
  Child publisher(PublishFlags(2, "kill", 10'000), dir_ / "publisher.out");
  std::mt19937 random(std::random_device{}());
  int killed = 0;
  for (int round = 0; round < 5; ++round) {
    Child worker(WorkerFlags(), dir_ / "worker.out");
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 1200));
    worker.Kill9();
    if (worker.Wait() == 128 + SIGKILL) ++killed;
  }
  EXPECT_EQ(killed, 5);
  ASSERT_EQ(publisher.Wait(), 0);
  const SimulatorStats expected = Expected(2, "kill");
  Child survivor(WorkerFlags(), dir_ / "survivor.out");
  EXPECT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("raw_events") << " of " << expected.valid;
  EXPECT_EQ(Drain(survivor), 0);
  EXPECT_EQ(Count("raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("dead_letter"), std::int64_t(expected.invalid));
}

TEST_F(PubsubJobTest, TwoWorkersOnOneSubscriptionStoreEachEventOnce) { RunWorkers(2); }
TEST_F(PubsubJobTest, ThreeWorkersOnOneSubscriptionStoreEachEventOnce) { RunWorkers(3); }

void PubsubJobTest::RunWorkers(int count) {
  Child publisher(PublishFlags(3, "workers", 20'000), dir_ / "publisher.out");
  std::vector<std::unique_ptr<Child>> workers;
  for (int i = 0; i < count; ++i) {
    workers.push_back(
        std::make_unique<Child>(WorkerFlags(), dir_ / fmt::format("worker{}.out", i)));
  }
  ASSERT_EQ(publisher.Wait(), 0);
  const SimulatorStats expected = Expected(3, "workers");
  EXPECT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("raw_events") << " of " << expected.valid;
  std::uint64_t received = 0;
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(Drain(*workers[i]), 0);
    const std::string out = e2e::ReadFile(dir_ / fmt::format("worker{}.out", i));
    received += std::stoull(out.substr(out.find("\"received\":") + 11));
  }
  EXPECT_GE(received, kMessages);  // Every message reached some worker.
  EXPECT_EQ(Count("raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("dead_letter"), std::int64_t(expected.invalid));
}

TEST_F(PubsubJobTest, DrainAcknowledgesEverythingItPulled) {
  ASSERT_EQ(RunBikestream(PublishFlags(4, "drain")), 0);
  // A slow first worker, drained part way.
  auto first_flags = WorkerFlags();
  first_flags.insert(first_flags.end(), {"--max-outstanding-messages", "500", "--pullers", "1"});
  Child first(first_flags, dir_ / "first.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(Drain(first), 0);
  EXPECT_NE(e2e::ReadFile(dir_ / "first.out.err").find("job DRAINED"), std::string::npos);
  const std::string first_out = e2e::ReadFile(dir_ / "first.out");
  const std::uint64_t first_received =
      std::stoull(first_out.substr(first_out.find("\"received\":") + 11));
  ASSERT_GT(first_received, 0u);
  ASSERT_LT(first_received, kMessages) << "the drain came too late to test anything";

  // What the first worker pulled was acknowledged: the second gets exactly the rest.
  Child second(WorkerFlags(), dir_ / "second.out");
  const SimulatorStats expected = Expected(4, "drain");
  ASSERT_TRUE(WaitForCounts(expected));
  // Give a redelivery, if there were one, time to show up.
  std::this_thread::sleep_for(std::chrono::seconds(12));
  ASSERT_EQ(Drain(second), 0);
  const std::string second_out = e2e::ReadFile(dir_ / "second.out");
  const std::uint64_t second_received =
      std::stoull(second_out.substr(second_out.find("\"received\":") + 11));
  EXPECT_EQ(first_received + second_received, kMessages);
}

TEST_F(PubsubJobTest, CancelThenRestartLosesNothing) {
  ASSERT_EQ(RunBikestream(PublishFlags(5, "cancel")), 0);
  Child first(WorkerFlags(), dir_ / "first.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  first.Signal(SIGINT);
  EXPECT_EQ(first.Wait(), 130);
  EXPECT_NE(e2e::ReadFile(dir_ / "first.out.err").find("job CANCELLED"), std::string::npos);
  Child second(WorkerFlags(), dir_ / "second.out");
  const SimulatorStats expected = Expected(5, "cancel");
  EXPECT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("raw_events") << " of " << expected.valid;
  EXPECT_EQ(Drain(second), 0);
}

TEST_F(PubsubJobTest, AMissingSubscriptionFailsTheJobWithAClearError) {
  std::string out;
  auto flags = WorkerFlags();
  flags[6] = "no-such-subscription";
  Child worker(flags, dir_ / "missing.out");
  EXPECT_EQ(worker.Wait(), 1);
  const std::string err = e2e::ReadFile(dir_ / "missing.out.err");
  EXPECT_NE(err.find("job FAILED"), std::string::npos) << err;
  EXPECT_NE(err.find("NOT_FOUND"), std::string::npos) << err;
}

// The job id a worker printed on stderr when it started.
std::string JobIdOf(const std::string& err_path) {
  for (int i = 0; i < 100; ++i) {
    const std::string err = e2e::ReadFile(err_path);
    if (auto at = err.find("job ");
        at != std::string::npos && err.find(" streaming from ") != std::string::npos) {
      return err.substr(at + 4, err.find(' ', at + 4) - at - 4);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "";
}

TEST_F(PubsubJobTest, AdminEndpointAndJobsCommandDriveDrain) {
  ASSERT_EQ(RunBikestream(PublishFlags(6, "admin")), 0);
  const int port = testing_support::FreeLoopbackPort();
  auto flags = WorkerFlags();
  flags.insert(flags.end(), {"--admin", fmt::format("127.0.0.1:{}", port)});
  Child worker(flags, dir_ / "admin.out");
  const std::string id = JobIdOf(dir_ / "admin.out.err");
  ASSERT_FALSE(id.empty()) << e2e::ReadFile(dir_ / "admin.out.err");

  httplib::Client admin("127.0.0.1", port);
  auto health = admin.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  ASSERT_TRUE(WaitForCounts(Expected(6, "admin")));
  auto metrics = admin.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("bikestream_stored_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("bikestream_acks_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("bikestream_publish_to_commit_seconds_bucket{le=\"+Inf\"}"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("bikestream_job_state{state=\"RUNNING\"} 1"), std::string::npos);
  auto job = admin.Get("/job");
  ASSERT_TRUE(job);
  EXPECT_NE(job->body.find("\"state\":\"RUNNING\""), std::string::npos) << job->body;

  std::string out;
  ASSERT_EQ(RunBikestream({"jobs", "list"}, &out), 0);
  EXPECT_NE(out.find(id), std::string::npos) << out;
  EXPECT_NE(out.find("RUNNING"), std::string::npos) << out;
  ASSERT_EQ(RunBikestream({"jobs", "drain", id.substr(0, 22)}, &out), 0);
  EXPECT_NE(out.find("DRAINING"), std::string::npos) << out;
  EXPECT_EQ(worker.Wait(), 0);
  EXPECT_NE(e2e::ReadFile(dir_ / "admin.out.err").find("job DRAINED"), std::string::npos);
  ASSERT_EQ(RunBikestream({"jobs", "list"}, &out), 0);
  EXPECT_EQ(out.find(id), std::string::npos) << "a finished job is still listed";
}

TEST_F(PubsubJobTest, JobsCommandAndAdminPostCancel) {
  Child first(WorkerFlags(), dir_ / "first.out");
  const std::string id = JobIdOf(dir_ / "first.out.err");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(RunBikestream({"jobs", "cancel", id}), 0);
  EXPECT_EQ(first.Wait(), 130);
  EXPECT_NE(e2e::ReadFile(dir_ / "first.out.err").find("job CANCELLED"), std::string::npos);
  EXPECT_EQ(RunBikestream({"jobs", "drain", id}), 1);  // Gone: a clear error, not a hang.

  const int port = testing_support::FreeLoopbackPort();
  auto flags = WorkerFlags();
  flags.insert(flags.end(), {"--admin", fmt::format("127.0.0.1:{}", port)});
  Child second(flags, dir_ / "second.out");
  ASSERT_FALSE(JobIdOf(dir_ / "second.out.err").empty());
  httplib::Client admin("127.0.0.1", port);
  auto cancelled = admin.Post("/cancel", {{"X-Bikestream-Admin", "1"}}, "", "text/plain");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->status, 202);
  EXPECT_EQ(second.Wait(), 130);
}

TEST_F(PubsubJobTest, AWarehouseOutageMidStreamLosesNothingAndTheJobKeepsRunning) {
  const int port = testing_support::FreeLoopbackPort();
  auto flags = WorkerFlags();
  flags.insert(flags.end(), {"--admin", fmt::format("127.0.0.1:{}", port)});
  Child worker(flags, dir_ / "worker.out");
  Child publisher(PublishFlags(8, "outage", 10'000), dir_ / "publisher.out");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  {
    // Another writer holds the database for 15 s: every commit in that time fails.
    auto blocker = *OpenWarehouse("sqlite:" + db_);
    ASSERT_TRUE(blocker->Query("BEGIN EXCLUSIVE").ok());
    std::this_thread::sleep_for(std::chrono::seconds(15));
    ASSERT_TRUE(blocker->Query("COMMIT").ok());
  }
  ASSERT_EQ(publisher.Wait(), 0);
  const SimulatorStats expected = Expected(8, "outage");
  EXPECT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("raw_events") << " of " << expected.valid;
  httplib::Client admin("127.0.0.1", port);
  auto metrics = admin.Get("/metrics");
  ASSERT_TRUE(metrics) << "the job is gone";
  EXPECT_EQ(metrics->body.find("bikestream_commit_failures_total 0\n"), std::string::npos)
      << "no commit failed: the outage tested nothing";
  EXPECT_EQ(metrics->body.find("bikestream_nacks_total 0\n"), std::string::npos);
  EXPECT_EQ(Drain(worker), 0);
  EXPECT_EQ(Count("raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("dead_letter"), std::int64_t(expected.invalid));
}

TEST_F(PubsubJobTest, PushSubscriptionDeliversAStreamEndToEnd) {
  const int port = testing_support::FreeLoopbackPort();
  Child worker({"ingest", "--push-listen", fmt::format("127.0.0.1:{}", port), "--push-token",
                "s3cret", "--warehouse", "sqlite:" + db_, "--json"},
               dir_ / "push.out");
  ASSERT_FALSE(JobIdOf(dir_ / "push.out.err").empty());
  ASSERT_EQ(RunBikestream({"setup", "--project", PubsubEmulator::kProject, "--topic", topic_,
                           "--subscription", subscription_ + "-push", "--push-endpoint",
                           fmt::format("http://127.0.0.1:{}/push?token=s3cret", port),
                           "--warehouse", "sqlite:" + db_}),
            0);
  // The emulator pushes a few hundred messages a second: a smaller stream.
  constexpr std::uint64_t kPushed = 5'000;
  ASSERT_EQ(RunBikestream(PublishFlags(7, "push", std::nullopt, kPushed)), 0);
  // The pull subscription made by SetUp gets the same messages; only the push one is served.
  const SimulatorStats expected = Expected(7, "push", kPushed);
  EXPECT_TRUE(WaitForCounts(expected))
      << "raw_events " << Count("raw_events") << " of " << expected.valid;
  EXPECT_EQ(Drain(worker), 0);
  EXPECT_NE(e2e::ReadFile(dir_ / "push.out.err").find("job DRAINED"), std::string::npos);
  EXPECT_EQ(Count("raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count("dead_letter"), std::int64_t(expected.invalid));
}

TEST_F(PubsubJobTest, PushRefusesAWrongTokenAndAnswersOnlyAfterTheCommit) {
  const int port = testing_support::FreeLoopbackPort();
  Child worker({"ingest", "--push-listen", fmt::format("127.0.0.1:{}", port), "--push-token",
                "right", "--warehouse", "sqlite:" + db_},
               dir_ / "push.out");
  ASSERT_FALSE(JobIdOf(dir_ / "push.out.err").empty());
  const std::string envelope =
      R"({"message":{"data":"eyJldmVudF9pZCI6ImUtcHVzaC0xIiwic3RhdGlvbl9pZCI6IkFfMTAxIiwidHNfaXNvIjoiMjAyNS0xMC0xOFQxNjoyNDoxMVoiLCJraW5kIjoicGlja3VwIiwiZGVsdGEiOjF9","messageId":"42","publishTime":"2025-10-18T16:24:12Z"},"subscription":"projects/p/subscriptions/s"})";
  httplib::Client client("127.0.0.1", port);
  auto refused = client.Post("/push?token=wrong", envelope, "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  auto untokened = client.Post("/push", envelope, "application/json");
  ASSERT_TRUE(untokened);
  EXPECT_EQ(untokened->status, 401);
  EXPECT_EQ(Count("raw_events"), 0);
  auto garbage = client.Post("/push?token=right", "not an envelope", "application/json");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  auto accepted = client.Post("/push?token=right", envelope, "application/json");
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 204);
  EXPECT_EQ(Count("raw_events"), 1);  // Already committed when the 2xx came back.
  auto again = client.Post("/push?token=right", envelope, "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 204);
  EXPECT_EQ(Count("raw_events"), 1);  // A redelivery is recognised.
  EXPECT_EQ(Drain(worker), 0);
}

// Google Cloud as the job sees it: the emulator behind an endpoint that takes only unexpired
// tokens of a loopback token server, as Pub/Sub takes only Google's.
class AuthenticatingProxy {
 public:
  AuthenticatingProxy(std::string emulator_host, testing_support::GoogleTokenServer& tokens)
      : emulator_host_(std::move(emulator_host)),
        tokens_(tokens),
        server_([this](httplib::Server& server) {
          const auto forward = [this](const httplib::Request& request,
                                      httplib::Response& response) { Forward(request, response); };
          server.Get(".*", forward);
          server.Post(".*", forward);
          server.Put(".*", forward);
          server.Delete(".*", forward);
        }) {}
  std::string url() const { return server_.url(); }
  int refusals() const { return refusals_; }
  int forwarded() const { return forwarded_; }

 private:
  void Forward(const httplib::Request& request, httplib::Response& response) {
    if (!tokens_.Authorizes(request)) {
      ++refusals_;
      testing_support::GoogleTokenServer::AnswerUnauthenticated(response);
      return;
    }
    ++forwarded_;
    httplib::Client emulator("http://" + emulator_host_);
    httplib::Request copy;
    copy.method = request.method;
    copy.path = request.path;
    copy.body = request.body;
    copy.set_header("Content-Type", "application/json");
    auto result = emulator.send(copy);
    if (!result) {
      response.status = 503;
      return;
    }
    response.status = result->status;
    response.set_content(result->body, "application/json");
  }

  const std::string emulator_host_;
  testing_support::GoogleTokenServer& tokens_;
  std::atomic<int> refusals_ = 0, forwarded_ = 0;
  testing_support::LoopbackServer server_;  // Last: it stops before what its handlers use goes.
};

TEST_F(PubsubJobTest, AServiceAccountsShortTokensAreRenewedForTheWholeStream) {
  testing_support::GoogleTokenServer tokens(dir_ / "");
  tokens.set_lifetime_seconds(3);
  AuthenticatingProxy proxy(SharedEmulator().host(), tokens);
  const std::string key_file = dir_ / "key.json";
  std::ofstream(key_file) << tokens.AddServiceAccount(
      "ingest@bikestream-test.iam.gserviceaccount.com",
      testing_support::TestRsaKey::Generate(dir_ / "", "key"));
  // Both the publisher and the worker talk to "Google Cloud" through the proxy.
  std::optional<e2e::ScopedEnv> environment[4];
  environment[0].emplace("PUBSUB_EMULATOR_HOST", std::nullopt);
  environment[1].emplace("GOOGLE_OAUTH_ACCESS_TOKEN", std::nullopt);
  environment[2].emplace("GOOGLE_APPLICATION_CREDENTIALS", key_file);
  environment[3].emplace("PUBSUB_ENDPOINT", proxy.url());
  constexpr std::uint64_t kStream = 3'000;  // 12 s at 250 a second: four tokens' lives.
  Child publisher(PublishFlags(9, "tokens", 250, kStream), dir_ / "publisher.out");
  Child worker(WorkerFlags(), dir_ / "worker.out");
  const int published = publisher.Wait();
  const SimulatorStats expected = Expected(9, "tokens", kStream);
  const bool converged = WaitForCounts(expected);
  const int drained = Drain(worker);
  for (auto& variable : environment) variable.reset();
  ASSERT_EQ(published, 0) << e2e::ReadFile(dir_ / "publisher.out.err");
  EXPECT_TRUE(converged) << "raw_events " << Count("raw_events") << " of " << expected.valid << "\n"
                         << e2e::ReadFile(dir_ / "worker.out.err");
  EXPECT_EQ(drained, 0);
  EXPECT_GE(tokens.grants(), 6);  // Two processes, each through four 3-second tokens.
  EXPECT_EQ(proxy.refusals(), 0);
  EXPECT_GT(proxy.forwarded(), 100);
  EXPECT_TRUE(tokens.problems().empty()) << tokens.problems().front();
  // No token or key reaches the output or the job registry.
  std::string written =
      e2e::ReadFile(dir_ / "worker.out") + e2e::ReadFile(dir_ / "worker.out.err") +
      e2e::ReadFile(dir_ / "publisher.out") + e2e::ReadFile(dir_ / "publisher.out.err");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ / "state")) {
    if (entry.is_regular_file()) written += e2e::ReadFile(entry.path().string());
  }
  EXPECT_EQ(written.find("ya29."), std::string::npos);
  EXPECT_EQ(written.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(written.find("eyJ"), std::string::npos);  // A signed assertion is a credential too.
}

}  // namespace
}  // namespace bikestream
