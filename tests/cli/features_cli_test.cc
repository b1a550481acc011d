// features, features verify and training-set through the real binary.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "cli/admin_util.h"
#include "cli/cli_test_util.h"
#include "support/pubsub_emulator_process.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using e2e::TempDir;

class FeaturesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = "sqlite:" + (dir_ / "f.db");
    // 100 stations, ~100 s of event time from 00:00 (rate 0 runs event time at 1000/s × 0.5).
    ASSERT_EQ(RunBikestream({"run", "--mode", "stream", "--count", "50000", "--stations", "100",
                             "--start", "2025-11-16T00:00:00Z", "--speedup", "0.5", "--seed", "3",
                             "--run-id", "fx", "--warehouse", db_, "--json"}),
              0);
  }
  TempDir dir_;
  std::string db_;
};

TEST_F(FeaturesCliTest, ComputeVerifyAndCatchATamperedRow) {
  ASSERT_EQ(RunBikestream({"features", "--as-of", "2025-11-16T00:15:00Z", "--warehouse", db_}), 0);
  std::string out;
  EXPECT_EQ(
      RunBikestream({"features", "verify", "--as-of", "2025-11-16T00:15:00Z", "--warehouse", db_},
                    &out),
      0)
      << out;
  EXPECT_EQ(out, "");
  ASSERT_EQ(
      RunBikestream({"query",
                     "UPDATE station_features SET value = value + 1 WHERE station_id = 'A_105' "
                     "AND feature_name = 'pickup_count'",
                     "--warehouse", db_}),
      0);
  EXPECT_EQ(
      RunBikestream({"features", "verify", "--as-of", "2025-11-16T00:15:00Z", "--warehouse", db_},
                    &out),
      1);
  EXPECT_NE(out.find("A_105 pickup_count 2h: stored"), std::string::npos) << out;
  // Re-running the as_of replaces the rows: verify is clean again.
  ASSERT_EQ(RunBikestream({"features", "--as-of", "2025-11-16T00:15:00Z", "--warehouse", db_}), 0);
  EXPECT_EQ(
      RunBikestream({"features", "verify", "--as-of", "2025-11-16T00:15:00Z", "--warehouse", db_}),
      0);
}

TEST_F(FeaturesCliTest, BackfillThenExportAGridAndPointInTimeLabels) {
  ASSERT_EQ(RunBikestream({"features", "--backfill", "2025-11-16T00:00:00Z..2025-11-16T01:00:00Z",
                           "--warehouse", db_}),
            0);
  std::string out;
  // 00:00 has no events yet; 00:15 to 01:00 have all 100 stations: 4 ticks × 100 rows.
  ASSERT_EQ(RunBikestream({"training-set", "--from", "2025-11-16T00:00:00Z", "--to",
                           "2025-11-16T01:00:00Z", "--warehouse", db_},
                          &out),
            0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1 + 400);
  EXPECT_TRUE(out.starts_with(
      "station_id,as_of,pickup_count,dropoff_count,avg_delta_pickup,is_peak_station\n"))
      << out.substr(0, 200);

  const std::string labels = dir_ / "labels.csv";
  std::ofstream(labels) << "station_id,ts,will_run_out\n"
                        << "A_101,2025-11-16T00:29:59Z,1\n"   // Latest as_of <= ts: 00:15.
                        << "A_101,2025-11-16T00:30:00Z,0\n"   // Exactly a tick: that tick.
                        << "A_102,2025-11-16T00:05:00Z,1\n";  // Before any features: empty.
  ASSERT_EQ(RunBikestream({"training-set", "--labels", labels, "--warehouse", db_}, &out), 0);
  std::istringstream lines(out);
  std::string header, first, second, third;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  std::getline(lines, third);
  EXPECT_EQ(header,
            "station_id,ts,as_of,will_run_out,pickup_count,dropoff_count,avg_delta_pickup,is_peak_"
            "station");
  EXPECT_TRUE(first.starts_with("A_101,2025-11-16T00:29:59Z,2025-11-16T00:15:00Z,1,")) << first;
  EXPECT_TRUE(second.starts_with("A_101,2025-11-16T00:30:00Z,2025-11-16T00:30:00Z,0,")) << second;
  EXPECT_EQ(third, "A_102,2025-11-16T00:05:00Z,,1,,,,");
}

// On a warehouse of past data, `features` without --as-of computes the data's latest tick, not a
// tick of zeros "now" that would become the default training set; and it says which it used.
TEST_F(FeaturesCliTest, WithoutAsOfPastDataGetsItsLatestTickAndSaysSo) {
  std::string err;
  ASSERT_EQ(RunBikestream({"features", "--warehouse", db_}, nullptr, "/dev/null", &err), 0) << err;
  EXPECT_NE(err.find("as of the data's latest tick, 2025-11-16T00:15:00Z"), std::string::npos)
      << err;
  std::string out;
  ASSERT_EQ(RunBikestream({"training-set", "--warehouse", db_}, &out), 0);
  std::istringstream lines(out);
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  EXPECT_TRUE(first.starts_with("A_101,2025-11-16T00:15:00Z,")) << first;
  EXPECT_FALSE(first.starts_with("A_101,2025-11-16T00:15:00Z,0,0,"))
      << "a tick of zeros: " << first;
}

// Labels as pandas, BigQuery and people write their times; an --as-of that is no tick says which
// ticks are near instead of answering no rows.
TEST_F(FeaturesCliTest, LabelsInToolsFormsAndAnAsOfThatIsNoTick) {
  ASSERT_EQ(RunBikestream({"features", "--backfill", "2025-11-16T00:15:00Z..2025-11-16T00:30:00Z",
                           "--warehouse", db_}),
            0);
  const std::string labels = dir_ / "pandas.csv";
  std::ofstream(labels) << "station_id,ts,y\n"
                        << "A_101,2025-11-16 00:29:59+00:00,1\n"  // pandas, tz-aware.
                        << "A_101,2025-11-16 00:30:00,2\n"        // pandas, naive (UTC).
                        << "A_101,2025-11-16T00:29:59.999Z,3\n"   // Fractional seconds.
                        << "A_101,2025-11-16 00:30:00 UTC,4\n";   // BigQuery.
  std::string out, err;
  ASSERT_EQ(RunBikestream({"training-set", "--labels", labels, "--warehouse", db_}, &out,
                          "/dev/null", &err),
            0)
      << err;
  EXPECT_NE(out.find("A_101,2025-11-16T00:29:59Z,2025-11-16T00:15:00Z,1,"), std::string::npos)
      << out;
  EXPECT_NE(out.find("A_101,2025-11-16T00:30:00Z,2025-11-16T00:30:00Z,2,"), std::string::npos)
      << out;
  EXPECT_NE(out.find("A_101,2025-11-16T00:29:59.999000Z,2025-11-16T00:15:00Z,3,"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("A_101,2025-11-16T00:30:00Z,2025-11-16T00:30:00Z,4,"), std::string::npos)
      << out;

  EXPECT_EQ(RunBikestream({"training-set", "--as-of", "2025-11-16T00:20:00Z", "--warehouse", db_},
                          &out, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("no features as of 2025-11-16T00:20:00Z: it is no tick. The nearest before: "
                     "2025-11-16T00:15:00Z; "
                     "after: 2025-11-16T00:30:00Z"),
            std::string::npos)
      << err;
  EXPECT_EQ(RunBikestream(
                {"training-set", "--as-of", "2025-11-16 00:30:00+00:00", "--warehouse", db_}, &out),
            0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 101);
}

// A replay that stores events older than stored ticks says which ticks missed them and how to
// refresh them.
TEST_F(FeaturesCliTest, AReplayUnderStoredTicksSaysHowToRefreshThem) {
  ASSERT_EQ(RunBikestream({"features", "--as-of", "2025-11-16T00:15:00Z", "--warehouse", db_}), 0);
  const std::string events = dir_ / "late.jsonl";
  std::ofstream(events)
      << R"({"event_id":"late-1","station_id":"A_101","ts_iso":"2025-11-16T00:05:00Z","kind":"Pickup","delta":1})"
      << "\n";
  ASSERT_EQ(RunBikestream({"ingest", "--from", events, "--warehouse", db_}), 0);
  ASSERT_EQ(RunBikestream({"query",
                           "UPDATE dead_letter SET payload = replace(payload, 'Pickup', 'pickup')",
                           "--warehouse", db_}),
            0);
  std::string out, err;
  ASSERT_EQ(RunBikestream({"dead-letter", "replay", "--warehouse", db_}, &out, "/dev/null", &err),
            0)
      << err;
  EXPECT_NE(out.find("1 stored"), std::string::npos) << out;
  EXPECT_NE(err.find("the features stored at ticks from 2025-11-16T00:05:00Z to "
                     "2025-11-16T00:15:00Z were computed "
                     "without these events; refresh them:\n  bikestream features --backfill "
                     "2025-11-16T00:05:00Z..2025-11-16T00:15:00Z --warehouse " +
                     db_),
            std::string::npos)
      << err;
}

// A labels file that is no file of lines is refused with one line, not read for ever.
TEST_F(FeaturesCliTest, LabelsThatAreNoFileOfLinesAreRefused) {
  ASSERT_EQ(RunBikestream({"features", "--as-of", "2025-11-16T00:15:00Z", "--warehouse", db_}), 0);
  const std::string long_line = dir_ / "long.csv";
  std::ofstream(long_line) << "station_id,ts\n"
                           << std::string(100'000, 'A') << ",2025-11-16T00:15:00Z\n";
  for (const auto& [labels, says] : std::vector<std::pair<std::string, std::string>>{
           {"/dev/zero", "labels file '/dev/zero' is not a file"},
           {dir_ / "", "is not a file"},
           {long_line, long_line + ":2: a line longer than 64 KiB: is it the labels CSV?"}}) {
    std::string err;
    EXPECT_EQ(RunBikestream({"training-set", "--labels", labels, "--warehouse", db_}, nullptr,
                            "/dev/null", &err),
              1)
        << labels;
    EXPECT_NE(err.find(says), std::string::npos) << err;
  }
}

TEST_F(FeaturesCliTest, AFeatureFileDrivesComputeAndExportAndBadFilesNameTheLine) {
  const std::string file = dir_ / "features.toml";
  std::ofstream(file) << "[[feature]]\nname = \"bikes_out_30m\"\nwindow = \"30m\"\naggregate = "
                         "\"sum\"\nkind = \"pickup\"\n"
                      << "[[feature]]\nname = \"busiest\"\nwindow = \"all_time\"\naggregate = "
                         "\"top_share\"\nshare = 0.05\n";
  ASSERT_EQ(RunBikestream({"features", "--as-of", "2025-11-16T00:15:00Z", "--feature-file", file,
                           "--warehouse", db_}),
            0);
  std::string out;
  ASSERT_EQ(RunBikestream({"training-set", "--feature-file", file, "--warehouse", db_}, &out), 0);
  EXPECT_TRUE(out.starts_with("station_id,as_of,bikes_out_30m,busiest\n")) << out.substr(0, 100);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 101);

  std::ofstream(file) << "[[feature]]\nname = \"x\"\nwindow = \"2h\"\naggregate = \"median\"\n";
  Child bad({"features", "--feature-file", file, "--warehouse", db_}, dir_ / "bad.out");
  EXPECT_EQ(bad.Wait(), 1);
  EXPECT_NE(
      e2e::ReadFile(dir_ / "bad.out.err").find("features.toml:4: feature 'x': field 'aggregate'"),
      std::string::npos)
      << e2e::ReadFile(dir_ / "bad.out.err");
}

TEST_F(FeaturesCliTest, SchedulerRunsOnTriggerAndStopsOnSigterm) {
  const int port = testing_support::FreeLoopbackPort();
  Child scheduler({"features", "--every", "15m", "--admin", fmt::format("127.0.0.1:{}", port),
                   "--warehouse", db_},
                  dir_ / "scheduler.out");
  EXPECT_EQ(e2e::TriggerRun(port), 202);
  httplib::Client admin("127.0.0.1", port);
  std::string err;
  for (int i = 0; i < 50; ++i) {
    err = e2e::ReadFile(dir_ / "scheduler.out.err");
    std::size_t computed = 0;
    for (auto at = err.find("features at "); at != std::string::npos;
         at = err.find("features at ", at + 1))
      ++computed;
    if (computed >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Its /metrics counts what it computed: two ticks, their rows, how late the last landed.
  auto metrics = admin.Get("/metrics");
  ASSERT_TRUE(metrics);
  const auto value = [&](const std::string& name) {
    const auto at = metrics->body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(metrics->body.substr(at + name.size() + 2));
  };
  EXPECT_EQ(value("bikestream_feature_schedule_ticks_total"), 2) << metrics->body;
  EXPECT_GT(value("bikestream_feature_schedule_rows_total"), 0) << metrics->body;
  EXPECT_EQ(value("bikestream_feature_schedule_failures_total"), 0) << metrics->body;
  EXPECT_GE(value("bikestream_feature_schedule_lag_seconds"), 0) << metrics->body;
  scheduler.Signal(SIGTERM);
  EXPECT_EQ(scheduler.Wait(), 0);
  err = e2e::ReadFile(dir_ / "scheduler.out.err");
  EXPECT_NE(err.find("features at "), err.rfind("features at "))
      << "expected a tick and a triggered run: " << err;
  EXPECT_NE(err.find("scheduler stopped"), std::string::npos);
}

}  // namespace
}  // namespace bikestream

namespace bikestream {
namespace {

// Every as_of the streaming job wrote must verify against the batch SQL.
void ExpectEveryTickVerifies(const std::string& db) {
  std::string ticks;
  ASSERT_EQ(RunBikestream({"query", "SELECT DISTINCT as_of FROM station_features ORDER BY 1",
                           "--format", "csv", "--warehouse", db},
                          &ticks),
            0);
  std::istringstream lines(ticks);
  std::string tick;
  std::getline(lines, tick);  // Header.
  int verified = 0;
  while (std::getline(lines, tick)) {
    std::string out;
    EXPECT_EQ(RunBikestream({"features", "verify", "--as-of", tick, "--warehouse", db}, &out), 0)
        << tick << ":\n"
        << out.substr(0, 2000);
    ++verified;
  }
  EXPECT_GT(verified, 10);
}

class StreamingFeaturesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // About seven hours of event time, late and duplicate events included.
    ASSERT_EQ(Child({"simulate",
                     "--mode",
                     "stream",
                     "--count",
                     "60000",
                     "--stations",
                     "80",
                     "--start",
                     "2025-11-16T00:00:00Z",
                     "--speedup",
                     "400",
                     "--seed",
                     "8",
                     "--run-id",
                     "sf",
                     "--late-rate",
                     "0.05",
                     "--late-by",
                     "5m",
                     "--duplicate-rate",
                     "0.02"},
                    events_)
                  .Wait(),
              0);
  }
  std::vector<std::string> Ingest(const std::string& file, const std::string& db) {
    return {"ingest", "--from",       file,        "--warehouse",
            db,       "--features",   "streaming", "--allowed-lateness",
            "10m",    "--batch-size", "3000",      "--json"};
  }
  TempDir dir_;
  std::string events_ = dir_ / "events.jsonl";
};

TEST_F(StreamingFeaturesCliTest, RowsEqualTheBatchJobsAtEveryTickAcrossARestart) {
  // Two processes, one after the other: the second rebuilds its state from the warehouse.
  const std::string all = e2e::ReadFile(events_);
  const auto middle = all.find('\n', all.size() / 2) + 1;
  std::ofstream(dir_ / "first.jsonl") << all.substr(0, middle);
  std::ofstream(dir_ / "second.jsonl") << all.substr(middle);
  const std::string db = "sqlite:" + (dir_ / "restart.db");
  ASSERT_EQ(RunBikestream(Ingest(dir_ / "first.jsonl", db)), 0);
  ASSERT_EQ(RunBikestream(Ingest(dir_ / "second.jsonl", db)), 0);
  ExpectEveryTickVerifies(db);
}

TEST_F(StreamingFeaturesCliTest, KillNineThenRerunStillMatchesTheBatchJob) {
  const std::string db = "sqlite:" + (dir_ / "killed.db");
  Child first(Ingest(events_, db), dir_ / "first.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  first.Kill9();
  first.Wait();
  ASSERT_EQ(RunBikestream(Ingest(events_, db)), 0);
  ExpectEveryTickVerifies(db);
}

TEST_F(StreamingFeaturesCliTest, RunWithStreamingFeaturesMatchesTheBatchJob) {
  const std::string db = "sqlite:" + (dir_ / "run.db");
  ASSERT_EQ(RunBikestream({"run",       "--mode",      "stream",
                           "--count",   "60000",       "--stations",
                           "80",        "--start",     "2025-11-16T00:00:00Z",
                           "--speedup", "400",         "--seed",
                           "9",         "--late-rate", "0.05",
                           "--late-by", "5m",          "--warehouse",
                           db,          "--features",  "streaming",
                           "--json"}),
            0);
  ExpectEveryTickVerifies(db);
}

}  // namespace
}  // namespace bikestream
