// Every command of the binary against a real PostgreSQL server: setup, ingest, run, show,
// query, dead-letter, features, training-set, console; the URL from the flag, from
// $BIKESTREAM_WAREHOUSE, or completed by libpq's PG* environment.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli/cli_test_util.h"
#include "support/faulty_stream.h"
#include "support/postgres_server.h"

namespace bikestream {
namespace {

using e2e::RunBikestream;
using testing_support::PostgresServer;
using testing_support::SharedPostgres;

// Where the console that writes `log` serves, once it says so; "" if it does not within 20 s.
std::string ConsoleAddress(const std::string& log) {
  const auto address = e2e::WaitForMatch(log, R"(at http://([\d.]+:\d+)/)");
  return address.empty() ? "" : address[1];
}

class PostgresCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_POSTGRES();
    url_ = SharedPostgres().CreateDatabase(
        "cli_" +
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()).substr(0, 40));
  }

  // Runs bikestream; returns stdout, and the exit code in `code`.
  std::string Run(const std::vector<std::string>& args, int* code = nullptr) {
    std::string out;
    const int exit_code = RunBikestream(args, &out);
    if (code) *code = exit_code;
    return out;
  }

  e2e::TempDir dir_;
  std::string url_;
};

TEST_F(PostgresCliTest, IngestStoresEachEventOnceAndEveryCommandReadsIt) {
  const std::string events = dir_ / "events.jsonl";
  int code = -1;
  std::string out = Run({"setup", "--warehouse", url_}, &code);
  ASSERT_EQ(code, 0);
  EXPECT_NE(out.find(":***@127.0.0.1"), std::string::npos) << out;  // The password never prints.
  EXPECT_EQ(out.find(PostgresServer::kPassword), std::string::npos) << out;
  auto simulate = e2e::FaultyStreamFlags(5, "pgcli", 20'000);
  simulate.insert(simulate.begin(), "simulate");
  std::string jsonl;
  ASSERT_EQ(RunBikestream(simulate, &jsonl), 0);
  std::ofstream(events) << jsonl;
  const SimulatorStats expected = e2e::ExpectedFaultyStream(5, "pgcli", 20'000);

  std::string summary = Run(
      {"ingest", "--from", events, "--warehouse", url_, "--json", "--batch-size", "1000"}, &code);
  ASSERT_EQ(code, 0) << summary;
  EXPECT_NE(summary.find(fmt::format("\"stored\":{}", expected.valid)), std::string::npos)
      << summary;
  EXPECT_NE(summary.find(fmt::format("\"dead_lettered\":{}", expected.invalid)), std::string::npos)
      << summary;
  // Again, on one writer: nothing new.
  summary =
      Run({"ingest", "--from", events, "--warehouse", url_, "--json", "--writers", "1"}, &code);
  ASSERT_EQ(code, 0);
  EXPECT_NE(summary.find("\"stored\":0"), std::string::npos) << summary;

  out = Run({"query", "--warehouse", url_, "--format", "csv",
             "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM raw_events"});
  EXPECT_NE(out.find(fmt::format("{},{}", expected.valid, expected.valid)), std::string::npos)
      << out;
  out = Run({"show", "raw_events", "--limit", "3", "--warehouse", url_, "--format", "csv"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("2025-10-18T"), std::string::npos) << out;  // Timestamps print as RFC 3339.
  out = Run({"dead-letter", "list", "--warehouse", url_, "--format", "csv"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("bad_json"), std::string::npos) << out;

  const std::string as_of = "2025-10-18T01:00:00Z";
  ASSERT_EQ(RunBikestream({"features", "--as-of", as_of, "--warehouse", url_}), 0);
  EXPECT_EQ(RunBikestream({"features", "verify", "--as-of", as_of, "--warehouse", url_}), 0);
  out = Run({"training-set", "--as-of", as_of, "--warehouse", url_}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(
      out.rfind("station_id,as_of,pickup_count,dropoff_count,avg_delta_pickup,is_peak_station", 0),
      0u)
      << out;
  EXPECT_GT(std::count(out.begin(), out.end(), '\n'), 10);
}

// Issue 13's reproduction: year 0 in UTC once its offset applies, which PostgreSQL cannot
// partition, stalled every batch it was in; and a row the table's owner has the engine refuse
// (a CHECK constraint) must not hold back the rest of its batch either.
// The console's server on PostgreSQL, end to end: what its API answers is what the warehouse
// holds, and its replay is the warehouse's.
TEST_F(PostgresCliTest, TheConsoleServesWhatTheWarehouseHolds) {
  const std::string events = dir_ / "events.jsonl";
  std::ofstream(events)
      << R"({"event_id":"p1","station_id":"S1","ts_iso":"2024-10-07T08:01:00Z","kind":"pickup","delta":2}
{"event_id":"p2","station_id":"S1","ts_iso":"2024-10-07T08:14:59Z","kind":"dropoff","delta":1}
{"event_id":"p3","station_id":"S1","ts_iso":"2024-10-07T08:30:00Z","kind":"pickup","delta":1}
{"event_id":"p4","station_id":"S2","ts_iso":"2024-10-07T08:05:00Z","kind":"pickup","delta":1}
{not json
)";
  ASSERT_EQ(RunBikestream({"ingest", "--from", events, "--warehouse", url_}), 0);
  e2e::Child console({"console", "--warehouse", url_, "--listen", "127.0.0.1:0"},
                     dir_ / "console.out");
  const std::string address = ConsoleAddress(dir_ / "console.out.err");
  ASSERT_FALSE(address.empty()) << e2e::ReadFile(dir_ / "console.out.err");
  httplib::Client client("http://" + address);

  auto activity =
      client.Get("/api/activity?station=S1&from=2024-10-07T08:00:00Z&to=2024-10-07T09:00:00Z");
  ASSERT_TRUE(activity);
  ASSERT_EQ(activity->status, 200) << activity->body;
  const nlohmann::json buckets = nlohmann::json::parse(activity->body)["buckets"];
  ASSERT_EQ(buckets.size(), 4u);
  EXPECT_EQ(buckets[0]["pickups"], 1);
  EXPECT_EQ(buckets[0]["pickup_bikes"], 2);
  EXPECT_EQ(buckets[0]["dropoffs"], 1);
  EXPECT_EQ(buckets[1]["pickups"], 0);
  EXPECT_EQ(buckets[2]["pickups"], 1);
  const std::string counted = Run({"query", "--warehouse", url_, "--format", "csv",
                                   "SELECT count(*) AS n FROM raw_events WHERE station_id = 'S1'"});
  EXPECT_NE(counted.find("n\n3"), std::string::npos) << counted;

  auto busiest = client.Get("/api/busiest?from=2024-10-07T00:00:00Z&to=2024-10-08T00:00:00Z");
  ASSERT_TRUE(busiest);
  const nlohmann::json stations = nlohmann::json::parse(busiest->body)["stations"];
  ASSERT_EQ(stations.size(), 2u);
  EXPECT_EQ(stations[0]["station_id"], "S1");
  EXPECT_EQ(stations[0]["events"], 3);

  auto letters = client.Get("/api/dead-letters");
  ASSERT_TRUE(letters);
  EXPECT_EQ(nlohmann::json::parse(letters->body)["by_reason"], nlohmann::json({{"bad_json", 1}}));
  auto replay =
      client.Post("/api/dead-letters/replay", {{"X-Bikestream-Console", "1"}}, "", "text/plain");
  ASSERT_TRUE(replay);
  EXPECT_EQ(
      nlohmann::json::parse(replay->body),
      nlohmann::json({{"examined", 1}, {"stored", 0}, {"duplicates", 0}, {"still_invalid", 1}}));

  console.Signal(SIGINT);
  EXPECT_EQ(console.Wait(), 0);
}

// While the server is down the console answers 503 within seconds — not after PostgreSQL's
// minute of retries, each request queued behind the last — and serves again once it is back.
TEST_F(PostgresCliTest, TheConsoleAnswers503PromptlyWhileTheServerIsDown) {
  ASSERT_EQ(RunBikestream({"setup", "--warehouse", url_}), 0);
  e2e::Child console({"console", "--warehouse", url_, "--listen", "127.0.0.1:0"},
                     dir_ / "console.out");
  const std::string address = ConsoleAddress(dir_ / "console.out.err");
  ASSERT_FALSE(address.empty()) << e2e::ReadFile(dir_ / "console.out.err");
  httplib::Client client("http://" + address);
  client.set_read_timeout(std::chrono::seconds(30));  // PostgreSQL alone would retry for 60.
  auto before = client.Get("/api/summary");
  ASSERT_TRUE(before && before->status == 200);

  SharedPostgres().Stop();
  auto first = client.Get("/api/summary");
  ASSERT_TRUE(first) << httplib::to_string(first.error());
  EXPECT_EQ(first->status, 503) << first->body;
  auto next = client.Get("/api/stations");
  ASSERT_TRUE(next) << httplib::to_string(next.error());
  EXPECT_EQ(next->status, 503);
  EXPECT_NE(next->body.find("the warehouse has not answered for"), std::string::npos) << next->body;
  auto jobs = client.Get("/api/jobs");  // What needs no warehouse is served.
  EXPECT_TRUE(jobs && jobs->status == 200);

  SharedPostgres().Start();
  EXPECT_TRUE(e2e::WaitUntil(
      [&] {
        auto summary = client.Get("/api/summary");
        return summary && summary->status == 200;
      },
      std::chrono::seconds(120)));
  console.Signal(SIGINT);
  EXPECT_EQ(console.Wait(), 0);
}

TEST_F(PostgresCliTest, ABadTimestampAndARefusedRowAreDeadLetteredAndTheRestStored) {
  ASSERT_EQ(RunBikestream({"setup", "--warehouse", url_}), 0);
  ASSERT_EQ(
      RunBikestream({"query", "--warehouse", url_,
                     "ALTER TABLE raw_events ADD CONSTRAINT modest_delta CHECK (delta < 500)"}),
      0);
  const std::string events = dir_ / "events.jsonl";
  std::ofstream(events)
      << R"({"event_id":"a","station_id":"A_1","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":1})"
         "\n"
      << R"({"event_id":"p","station_id":"A_1","ts_iso":"0001-01-01T00:00:00+23:59","kind":"pickup","delta":1})"
         "\n"
      << R"({"event_id":"b","station_id":"A_1","ts_iso":"2025-11-18T16:24:11Z","kind":"dropoff","delta":900})"
         "\n"
      << R"({"event_id":"c","station_id":"A_1","ts_iso":"0001-01-01T00:00:00-23:59","kind":"dropoff","delta":2})"
         "\n"
      << R"({"event_id":"d","station_id":"A_1","ts_iso":"9999-12-31T23:59:59.999999Z","kind":"pickup","delta":3})"
         "\n";
  for (int run = 0; run < 2; ++run) {
    int code = -1;
    const std::string summary =
        Run({"ingest", "--from", events, "--warehouse", url_, "--json"}, &code);
    ASSERT_EQ(code, 0) << summary;
    if (run == 0) {
      EXPECT_NE(summary.find("\"stored\":3"), std::string::npos) << summary;
      EXPECT_NE(summary.find("\"dead_lettered\":2"), std::string::npos) << summary;
    }
  }
  const std::string out =
      Run({"query", "--warehouse", url_, "--format", "csv",
           "SELECT string_agg(event_id, ' ' ORDER BY event_id) FROM raw_events"});
  EXPECT_NE(out.find("a c d"), std::string::npos) << out;
  const std::string letters =
      Run({"query", "--warehouse", url_, "--format", "csv",
           "SELECT reason, message_id, error FROM dead_letter ORDER BY reason"});
  EXPECT_NE(letters.find("bad_timestamp,2#"), std::string::npos) << letters;
  EXPECT_NE(letters.find("refused_by_warehouse,event:b,"), std::string::npos) << letters;
  EXPECT_NE(letters.find("modest_delta"), std::string::npos) << letters;  // The engine's reason.
  EXPECT_EQ(std::count(letters.begin(), letters.end(), '\n'), 3) << letters;
}

// PostgreSQL cuts names at 63 bytes: a long RAW_EVENT_TABLE made every month's partition the
// same name. Too long is refused at start; the longest allowed keeps its months apart.
TEST_F(PostgresCliTest, TableNamesAreCheckedAndTheLongestKeepsItsPartitionsApart) {
  const std::string too_long(60, 'r');
  setenv("RAW_EVENT_TABLE", ("proj.dataset." + too_long).c_str(), 1);
  std::string err;
  EXPECT_EQ(RunBikestream({"setup", "--warehouse", url_}, nullptr, "/dev/null", &err), 1) << err;
  EXPECT_NE(err.find("RAW_EVENT_TABLE"), std::string::npos) << err;
  EXPECT_NE(err.find("at most 47"), std::string::npos) << err;
  setenv("RAW_EVENT_TABLE", "raw events; drop table x", 1);
  EXPECT_EQ(RunBikestream({"setup", "--warehouse", url_}, nullptr, "/dev/null", &err), 1) << err;
  EXPECT_NE(err.find("letters, digits and '_'"), std::string::npos) << err;

  const std::string longest(47, 'r');
  setenv("RAW_EVENT_TABLE", longest.c_str(), 1);
  ASSERT_EQ(RunBikestream({"setup", "--warehouse", url_}, nullptr, "/dev/null", &err), 0) << err;
  const std::string events = dir_ / "events.jsonl";
  std::ofstream(events)
      << R"({"event_id":"a","station_id":"A_1","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":1})"
         "\n"
      << R"({"event_id":"b","station_id":"A_1","ts_iso":"2025-11-18T16:24:11Z","kind":"pickup","delta":1})"
         "\n"
      << R"({"event_id":"c","station_id":"A_1","ts_iso":"2025-12-18T16:24:11Z","kind":"pickup","delta":1})"
         "\n";
  int code = -1;
  const std::string summary =
      Run({"ingest", "--from", events, "--warehouse", url_, "--json"}, &code);
  EXPECT_EQ(code, 0) << summary;
  EXPECT_NE(summary.find("\"stored\":3"), std::string::npos) << summary;
  unsetenv("RAW_EVENT_TABLE");
  const std::string partitions = Run(
      {"query", "--warehouse", url_, "--format", "csv",
       fmt::format("SELECT count(*) FROM pg_inherits WHERE inhparent = '{}'::regclass", longest)});
  EXPECT_NE(partitions.find("\n3"), std::string::npos) << partitions;
}

TEST_F(PostgresCliTest, RunFillsTheWarehouseNamedByTheEnvironment) {
  setenv("BIKESTREAM_WAREHOUSE", url_.c_str(), 1);
  int code = -1;
  const std::string out =
      Run({"run", "--mode", "stream", "--count", "5000", "--seed", "3", "--json"}, &code);
  unsetenv("BIKESTREAM_WAREHOUSE");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"received\":5000"), std::string::npos) << out;
  EXPECT_NE(Run({"query", "--warehouse", url_, "SELECT count(*) FROM raw_events"}).find("5000"),
            std::string::npos);
}

TEST_F(PostgresCliTest, LibpqEnvironmentFillsInTheUrl) {
  setenv("PGHOST", "127.0.0.1", 1);
  setenv("PGPORT", std::to_string(SharedPostgres().port()).c_str(), 1);
  setenv("PGUSER", PostgresServer::kUser, 1);
  setenv("PGPASSWORD", PostgresServer::kPassword, 1);
  const std::string database = url_.substr(url_.rfind('/') + 1);
  int code = -1;
  const std::string out = Run({"setup", "--warehouse", "postgresql:///" + database}, &code);
  EXPECT_EQ(code, 0) << out;
  setenv("PGPASSWORD", "wrong", 1);
  const std::string refused = dir_ / "refused.out";
  e2e::Child query({"query", "--warehouse", "postgresql:///" + database, "SELECT 1"}, refused);
  EXPECT_NE(query.Wait(), 0);
  EXPECT_NE(e2e::ReadFile(refused + ".err").find("PGPASSWORD"), std::string::npos)
      << e2e::ReadFile(refused + ".err");
  for (const char* name : {"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"}) unsetenv(name);
}

TEST_F(PostgresCliTest, StreamingFeaturesWhileTwoConnectionsCommitMatchTheBatchJob) {
  const std::string events = dir_ / "events.jsonl";
  std::string jsonl;
  ASSERT_EQ(
      RunBikestream({"simulate", "--mode", "stream", "--count", "30000", "--seed", "9", "--start",
                     "2025-10-18T00:00:00Z", "--speedup", "3600", "--late-rate", "0.05"},
                    &jsonl),
      0);
  std::ofstream(events) << jsonl;
  int code = -1;
  const std::string out =
      Run({"ingest", "--from", events, "--warehouse", url_, "--features", "streaming", "--every",
           "15m", "--batch-size", "2000", "--writers", "2", "--json"},
          &code);
  ASSERT_EQ(code, 0) << out;
  const std::string ticks =
      Run({"query", "--warehouse", url_, "--format", "csv",
           "SELECT as_of FROM station_features GROUP BY as_of ORDER BY as_of"});
  std::istringstream lines(ticks);
  std::string tick;
  std::getline(lines, tick);  // The header.
  int verified = 0;
  while (std::getline(lines, tick) && verified < 130) {
    if (++verified % 16 != 0) continue;  // Every fourth hour.
    EXPECT_EQ(RunBikestream({"features", "verify", "--as-of", tick, "--warehouse", url_}), 0)
        << tick;
  }
  EXPECT_GT(verified, 100);
}

}  // namespace
}  // namespace bikestream
