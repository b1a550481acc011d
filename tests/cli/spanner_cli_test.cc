// The binary against Google's Spanner emulator, as a user runs it: SPANNER_EMULATOR_HOST and a
// spanner:// URL; setup, ingest (twice: nothing new), query, show, dead-letter, features and
// verify, training-set; streaming features, a backfill and the scheduler, each verified against
// the batch SQL.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/admin_util.h"
#include "cli/cli_test_util.h"
#include "support/faulty_stream.h"
#include "support/spanner_emulator.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using testing_support::SharedSpannerEmulator;

class SpannerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_SPANNER(SharedSpannerEmulator());
    setenv("SPANNER_EMULATOR_HOST", SharedSpannerEmulator().host().c_str(), 1);
    const spanner::ClientOptions database = SharedSpannerEmulator().FreshDatabase();
    url_ =
        fmt::format("spanner://{}/{}/{}", database.project, database.instance, database.database);
  }

  std::string Run(const std::vector<std::string>& args, int* code) {
    std::string out;
    *code = RunBikestream(args, &out);
    return out;
  }

  // The as_of of every tick station_features holds, in order.
  std::vector<std::string> Ticks() {
    int code = -1;
    std::istringstream lines(Run({"query", "--warehouse", url_, "--format", "csv",
                                  "SELECT DISTINCT as_of FROM station_features ORDER BY as_of"},
                                 &code));
    EXPECT_EQ(code, 0);
    std::vector<std::string> ticks;
    std::string tick;
    std::getline(lines, tick);  // The header.
    while (std::getline(lines, tick)) ticks.push_back(tick);
    return ticks;
  }

  e2e::TempDir dir_;
  std::string url_;
};

TEST_F(SpannerCliTest, IngestStoresEachEventOnceAndEveryCommandReadsIt) {
  const std::string events = dir_ / "events.jsonl";
  int code = -1;
  std::string out = Run({"setup", "--warehouse", url_}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("tables ready in spanner://"), std::string::npos) << out;
  auto simulate = e2e::FaultyStreamFlags(7, "spcli", 3'000);
  simulate.insert(simulate.begin(), "simulate");
  std::string jsonl;
  ASSERT_EQ(RunBikestream(simulate, &jsonl), 0);
  std::ofstream(events) << jsonl;
  const SimulatorStats expected = e2e::ExpectedFaultyStream(7, "spcli", 3'000);

  std::string summary = Run(
      {"ingest", "--from", events, "--warehouse", url_, "--json", "--batch-size", "500"}, &code);
  ASSERT_EQ(code, 0) << summary;
  EXPECT_NE(summary.find(fmt::format("\"stored\":{}", expected.valid)), std::string::npos)
      << summary;
  EXPECT_NE(summary.find(fmt::format("\"dead_lettered\":{}", expected.invalid)), std::string::npos)
      << summary;
  summary = Run({"ingest", "--from", events, "--warehouse", url_, "--json"}, &code);
  ASSERT_EQ(code, 0) << summary;
  EXPECT_NE(summary.find("\"stored\":0"), std::string::npos) << summary;

  out = Run({"query", "--warehouse", url_, "--format", "csv",
             "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM raw_events"},
            &code);
  EXPECT_NE(out.find(fmt::format("{},{}", expected.valid, expected.valid)), std::string::npos)
      << out;
  out = Run(
      {"query", "--warehouse", url_, "--format", "csv", "SELECT count(*) AS n FROM dead_letter"},
      &code);
  EXPECT_NE(out.find(fmt::format("n\n{}", expected.invalid)), std::string::npos) << out;
  out = Run({"show", "raw_events", "--limit", "3", "--warehouse", url_, "--format", "csv"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2025-10-18T"), std::string::npos) << out;  // Timestamps print as RFC 3339.
  out = Run({"dead-letter", "list", "--warehouse", url_, "--format", "csv"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("bad_json"), std::string::npos) << out;

  const std::string as_of = "2025-10-18T01:00:00Z";
  ASSERT_EQ(RunBikestream({"features", "--as-of", as_of, "--warehouse", url_}), 0);
  EXPECT_EQ(RunBikestream({"features", "verify", "--as-of", as_of, "--warehouse", url_}), 0);
  out = Run({"training-set", "--as-of", as_of, "--warehouse", url_}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(
      out.rfind("station_id,as_of,pickup_count,dropoff_count,avg_delta_pickup,is_peak_station", 0),
      0u)
      << out;
  EXPECT_GT(std::count(out.begin(), out.end(), '\n'), 10);
}

// `ingest --features streaming` writes a tick every 15 minutes of event time as events land;
// each one sampled is what the batch SQL computes from raw_events. A backfill then rewrites a
// range, and the scheduler computes on its trigger and stops on SIGTERM.
TEST_F(SpannerCliTest, StreamingFeaturesABackfillAndTheSchedulerMatchTheBatchJob) {
  const std::string events = dir_ / "stream.jsonl";
  std::string jsonl;
  ASSERT_EQ(
      RunBikestream({"simulate", "--mode", "stream", "--count", "4000", "--seed", "9", "--start",
                     "2025-10-18T00:00:00Z", "--speedup", "3600", "--late-rate", "0.05"},
                    &jsonl),
      0);
  std::ofstream(events) << jsonl;
  int code = -1;
  std::string out = Run({"ingest", "--from", events, "--warehouse", url_, "--features", "streaming",
                         "--every", "15m", "--batch-size", "500", "--json"},
                        &code);
  ASSERT_EQ(code, 0) << out;
  std::vector<std::string> ticks = Ticks();
  ASSERT_GT(ticks.size(), 8u);
  for (std::size_t i = 0; i < ticks.size(); i += ticks.size() / 4) {
    EXPECT_EQ(RunBikestream({"features", "verify", "--as-of", ticks[i], "--warehouse", url_}), 0)
        << ticks[i];
  }

  const std::string range = ticks[1] + ".." + ticks[3];
  out = Run({"features", "--backfill", range, "--warehouse", url_}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(RunBikestream({"features", "verify", "--as-of", ticks[2], "--warehouse", url_}), 0);
  EXPECT_EQ(Ticks(), ticks);  // Rewritten in place: no tick added or lost.

  const int port = testing_support::FreeLoopbackPort();
  Child scheduler({"features", "--every", "15m", "--admin", fmt::format("127.0.0.1:{}", port),
                   "--warehouse", url_},
                  dir_ / "scheduler.out");
  EXPECT_EQ(e2e::TriggerRun(port), 202);
  std::string err;
  for (int i = 0; i < 300 && err.find("features at ") == err.rfind("features at "); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    err = e2e::ReadFile(dir_ / "scheduler.out.err");
  }
  scheduler.Signal(SIGTERM);
  EXPECT_EQ(scheduler.Wait(), 0);
  err = e2e::ReadFile(dir_ / "scheduler.out.err");
  EXPECT_NE(err.find("features at "), err.rfind("features at "))
      << "expected a tick and a triggered run: " << err;
  EXPECT_EQ(err.find("failed"), std::string::npos) << err;
  EXPECT_NE(err.find("scheduler stopped"), std::string::npos) << err;
}

TEST_F(SpannerCliTest, AWrongUrlOrAMissingSetupSaysWhatToDo) {
  std::string out, err;
  EXPECT_EQ(RunBikestream({"setup", "--warehouse", "spanner://my-project/Bad_Instance/db"}, &out,
                          "/dev/null", &err),
            1)
      << err;
  EXPECT_NE(err.find("spanner://PROJECT/INSTANCE/DATABASE"), std::string::npos) << err;
  EXPECT_NE(RunBikestream({"query", "--warehouse", url_, "SELECT 1 FROM raw_events"}, &out,
                          "/dev/null", &err),
            0);
  EXPECT_NE(err.find("bikestream setup"), std::string::npos) << err;
}

}  // namespace
}  // namespace bikestream
