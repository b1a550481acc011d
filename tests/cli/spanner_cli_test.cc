// The binary against Google's Spanner emulator, as a user runs it: SPANNER_EMULATOR_HOST and a
// spanner:// URL; setup, ingest (twice: nothing new), query, show, dead-letter, features and
// verify, training-set.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "cli/cli_test_util.h"
#include "support/faulty_stream.h"
#include "support/spanner_emulator.h"

namespace bikestream {
namespace {

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
