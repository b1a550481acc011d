// The binary against BigQuery's stand-in (support/bigquery_stand_in.h), authenticated with a
// token as a user would be: the notes' table variables name the dataset, --bigquery-endpoint
// and --location reach it, and setup, ingest, query, features, verify and training-set work
// end to end, with each statement's bytes under --verbose.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <regex>

#include "absl/strings/escaping.h"
#include "cli/cli_test_util.h"
#include "support/bigquery_sqlite.h"
#include "support/bigquery_stand_in.h"
#include "support/faulty_stream.h"
#include "support/pubsub_emulator_process.h"

namespace bikestream {
namespace {

using e2e::RunBikestream;
using e2e::ScopedEnv;
using testing_support::BigQuerySqliteEngine;
using testing_support::BigQueryStandIn;

class BigQueryCliTest : public ::testing::Test {
 protected:
  BigQueryCliTest() : stand_in_({.token = "cli-token"}, std::make_unique<BigQuerySqliteEngine>()) {}

  // Runs bikestream on the stand-in; returns stdout, stderr in `err`.
  std::string Run(std::vector<std::string> args, int* code, std::string* err = nullptr) {
    args.insert(args.end(), {"--bigquery-endpoint", stand_in_.url()});
    std::string out;
    *code = RunBikestream(args, &out, "/dev/null", err);
    return out;
  }

  BigQueryStandIn stand_in_;
  ScopedEnv token_{"GOOGLE_OAUTH_ACCESS_TOKEN", "cli-token"};
  ScopedEnv no_warehouse_{"BIKESTREAM_WAREHOUSE", std::nullopt};
  ScopedEnv raw_{"RAW_EVENT_TABLE", "test-project.bike_streaming.raw_events"};
  ScopedEnv features_{"FEATURE_EVENT_TABLE", "test-project.bike_streaming.station_features"};
  e2e::TempDir dir_;
};

TEST_F(BigQueryCliTest, TheNotesTableNamesLeadToTheDatasetAndEveryCommandWorks) {
  int code = -1;
  std::string err;
  std::string out = Run({"setup", "--location", "US"}, &code, &err);
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(out.find("tables ready in bigquery://test-project/bike_streaming?location=US"),
            std::string::npos)
      << out;
  ASSERT_TRUE(stand_in_.dataset("bike_streaming").has_value());

  auto simulate = e2e::FaultyStreamFlags(3, "bqcli", 3'000);
  simulate.insert(simulate.begin(), "simulate");
  std::string jsonl;
  ASSERT_EQ(RunBikestream(simulate, &jsonl), 0);
  const std::string events = dir_ / "events.jsonl";
  std::ofstream(events) << jsonl;
  const SimulatorStats expected = e2e::ExpectedFaultyStream(3, "bqcli", 3'000);
  for (int run = 0; run < 2; ++run) {
    out = Run({"ingest", "--from", events, "--json", "--batch-size", "1000", "--verbose"}, &code,
              &err);
    ASSERT_EQ(code, 0) << err;
    EXPECT_NE(out.find(fmt::format("\"stored\":{}", run == 0 ? expected.valid : 0)),
              std::string::npos)
        << out;
    // --verbose: each commit's share of its merge's bill, here all of it: BigQuery's 10 MB
    // minimum for each table the merge's statements read, seven with dead letters (docs/adr/0007).
    EXPECT_TRUE(
        std::regex_search(err, std::regex(R"(merge: \d+ bytes processed, 73400320 billed)")))
        << err;
  }
  out = Run({"query", "--format", "csv",
             "SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS ids FROM raw_events"},
            &code);
  EXPECT_NE(out.find(fmt::format("{},{}", expected.valid, expected.valid)), std::string::npos)
      << out;
  out = Run({"query", "--format", "csv", "SELECT COUNT(*) AS n FROM dead_letter"}, &code);
  EXPECT_NE(out.find(fmt::format("n\n{}\n", expected.invalid)), std::string::npos) << out;
  out = Run({"dead-letter", "list", "--format", "csv"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("bad_json"), std::string::npos) << out;

  const std::string as_of = "2025-10-18T01:00:00Z";
  ASSERT_EQ((Run({"features", "--as-of", as_of}, &code, &err), code), 0) << err;
  EXPECT_EQ((Run({"features", "verify", "--as-of", as_of}, &code, &err), code), 0) << err;
  out = Run({"training-set", "--as-of", as_of}, &code, &err);
  EXPECT_EQ(code, 0) << err;
  EXPECT_EQ(
      out.rfind("station_id,as_of,pickup_count,dropoff_count,avg_delta_pickup,is_peak_station", 0),
      0u)
      << out;
  EXPECT_GT(std::count(out.begin(), out.end(), '\n'), 10);
  EXPECT_EQ(stand_in_.invalid_requests(), 0);
}

// The streaming job on BigQuery: a push stream stored once, its streaming features written as
// ticks, and the bytes of its statements in /metrics; then drained.
TEST_F(BigQueryCliTest, AStreamingJobStoresOnceWritesTicksAndCountsBytes) {
  int code = -1;
  std::string err;
  Run({"setup"}, &code, &err);
  ASSERT_EQ(code, 0) << err;
  ScopedEnv state("BIKESTREAM_STATE_DIR", std::string(dir_ / "state"));
  const int push = testing_support::FreeLoopbackPort();
  const int admin = testing_support::FreeLoopbackPort();
  e2e::Child worker({"ingest", "--push-listen", fmt::format("127.0.0.1:{}", push), "--admin",
                     fmt::format("127.0.0.1:{}", admin), "--features", "streaming", "--every",
                     "15m", "--bigquery-endpoint", stand_in_.url(), "--max-commit-delay", "0.1"},
                    dir_ / "push.out");
  httplib::Client pusher("127.0.0.1", push);
  ASSERT_TRUE(e2e::WaitUntil([&] { return bool(pusher.Get("/")); }, std::chrono::seconds(20)))
      << e2e::ReadFile(dir_ / "push.out.err");
  // Two events 20 minutes apart close a 15-minute tick; each is pushed twice.
  const std::vector<std::string> events = {
      R"({"event_id":"e-1","station_id":"A_101","ts_iso":"2025-10-18T16:05:00Z","kind":"pickup","delta":2})",
      R"({"event_id":"e-2","station_id":"A_102","ts_iso":"2025-10-18T16:25:00Z","kind":"dropoff","delta":1})"};
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string envelope = fmt::format(
          R"({{"message":{{"data":"{}","messageId":"{}","publishTime":"2025-10-18T16:30:00Z"}},"subscription":"projects/p/subscriptions/s"}})",
          absl::Base64Escape(events[i]), i);
      auto answer = pusher.Post("/push", envelope, "application/json");
      ASSERT_TRUE(answer);
      EXPECT_EQ(answer->status, 204) << answer->body;
    }
  }
  httplib::Client metrics("127.0.0.1", admin);
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_NE(scraped->body.find("bikestream_stored_total 2"), std::string::npos) << scraped->body;
  EXPECT_NE(scraped->body.find("bikestream_duplicates_total 2"), std::string::npos)
      << scraped->body;
  EXPECT_EQ(scraped->body.find("bikestream_warehouse_bytes_processed_total 0\n"), std::string::npos)
      << scraped->body;
  EXPECT_NE(scraped->body.find("bikestream_warehouse_bytes_processed_total "), std::string::npos)
      << scraped->body;
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(), 0) << e2e::ReadFile(dir_ / "push.out.err");

  std::string out =
      Run({"query", "--format", "csv", "SELECT COUNT(*) AS n FROM raw_events"}, &code);
  EXPECT_NE(out.find("n\n2\n"), std::string::npos) << out;
  out = Run({"training-set", "--as-of", "2025-10-18T16:15:00Z"}, &code, &err);
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(out.find("A_101,2025-10-18T16:15:00Z,1,0,2,1"), std::string::npos)
      << out;  // The tick's features.
}

TEST_F(BigQueryCliTest, FlagsThatDoNotFitSayWhy) {
  int code = -1;
  std::string err;
  Run({"setup", "--warehouse", "sqlite:" + std::string(dir_ / "x.db"), "--location", "EU"}, &code,
      &err);
  EXPECT_NE(code, 0);
  EXPECT_NE(
      err.find(
          "--location, --bigquery-endpoint and --max-commit-delay are for a bigquery:// warehouse"),
      std::string::npos)
      << err;

  ScopedEnv elsewhere("FEATURE_EVENT_TABLE", "test-project.other.station_features");
  Run({"setup"}, &code, &err);
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("the tables must be in one dataset"), std::string::npos) << err;

  Run({"setup", "--warehouse", "bigquery://test-project/d?location=EU", "--location", "US"}, &code,
      &err);
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("give the location once"), std::string::npos) << err;
}

// An endpoint nobody answers at is retried for minutes (BigQuery's guidance): the person
// waiting hears why within seconds, not after five minutes of silence.
TEST_F(BigQueryCliTest, AnEndpointThatDoesNotAnswerIsReportedWhileRetried) {
  const int closed = testing_support::FreeLoopbackPort();
  e2e::Child setup({"setup", "--bigquery-endpoint", fmt::format("http://127.0.0.1:{}", closed)},
                   dir_ / "setup.out");
  const auto said = e2e::WaitForMatch(
      dir_ / "setup.out.err", "BigQuery at http://127.0.0.1:[0-9]+: ([^\\n]*); retrying in");
  EXPECT_FALSE(said.empty()) << e2e::ReadFile(dir_ / "setup.out.err");
  EXPECT_NE(e2e::ReadFile(dir_ / "setup.out.err").find("gives up after 300 s"), std::string::npos);
  setup.Signal(SIGTERM);
  setup.Wait();
}

}  // namespace
}  // namespace bikestream
