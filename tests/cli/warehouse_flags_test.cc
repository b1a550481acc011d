// Which warehouse the flags and the environment name, and the BigQuery URL's parameters.
#include "cli/warehouse_flags.h"

#include <gtest/gtest.h>

#include "cli/cli_test_util.h"

namespace bikestream::cli {
namespace {

using e2e::ScopedEnv;

class WarehouseFlagsTest : public ::testing::Test {
 protected:
  ScopedEnv warehouse_{"BIKESTREAM_WAREHOUSE", std::nullopt};
  ScopedEnv raw_{"RAW_EVENT_TABLE", std::nullopt};
  ScopedEnv features_{"FEATURE_EVENT_TABLE", std::nullopt};
  ScopedEnv dead_{"DEAD_LETTER_TABLE", std::nullopt};
  ScopedEnv stations_{"STATION_TABLE", std::nullopt};
};

std::string Resolved(const WarehouseFlags& flags) {
  auto url = ResolveWarehouseUrl(flags);
  return url.ok() ? *url : std::string(url.status().message());
}

TEST_F(WarehouseFlagsTest, TheFlagThenTheVariableThenTheNotesTablesThenSqlite) {
  EXPECT_EQ(Resolved({}), "sqlite:bikestream.db");
  ScopedEnv raw("RAW_EVENT_TABLE",
                "example.com:bikes.bike_streaming.raw_events");  // A domain-scoped project.
  EXPECT_EQ(Resolved({}), "bigquery://example.com:bikes/bike_streaming");
  {
    ScopedEnv bare("RAW_EVENT_TABLE", "events");  // A table name alone names no dataset.
    EXPECT_EQ(Resolved({}), "sqlite:bikestream.db");
  }
  ScopedEnv variable("BIKESTREAM_WAREHOUSE", "sqlite:from-env.db");
  EXPECT_EQ(Resolved({}), "sqlite:from-env.db");
  EXPECT_EQ(Resolved({.url = "sqlite:flag.db"}), "sqlite:flag.db");
}

TEST_F(WarehouseFlagsTest, LocationAndEndpointBecomeTheUrlsParametersOnce) {
  const WarehouseFlags flags{
      .url = "bigquery://p/d", .location = "EU", .bigquery_endpoint = "https://bq.example"};
  EXPECT_EQ(Resolved(flags), "bigquery://p/d?location=EU&endpoint=https://bq.example");
  EXPECT_NE(Resolved({.url = "bigquery://p/d?location=US", .location = "EU"})
                .find("give the location once"),
            std::string::npos);
  EXPECT_NE(Resolved({.url = "bigquery://p/d?endpoint=https://a", .bigquery_endpoint = "https://b"})
                .find("give the endpoint once"),
            std::string::npos);
  EXPECT_EQ(Resolved({.url = "bigquery://p/d", .max_commit_delay = "5"}),
            "bigquery://p/d?max_commit_delay=5");
  EXPECT_NE(Resolved({.url = "bigquery://p/d?max_commit_delay=1", .max_commit_delay = "5"})
                .find("give the delay once"),
            std::string::npos);
  EXPECT_NE(Resolved({.url = "sqlite:x.db", .max_commit_delay = "5"})
                .find("are for a bigquery:// warehouse"),
            std::string::npos);
  EXPECT_NE(
      Resolved({.url = "sqlite:x.db", .location = "EU"}).find("are for a bigquery:// warehouse"),
      std::string::npos);
  ScopedEnv raw("RAW_EVENT_TABLE", "p.one.raw_events");
  ScopedEnv features("FEATURE_EVENT_TABLE", "p.two.station_features");
  EXPECT_NE(Resolved({}).find("the tables must be in one dataset"), std::string::npos);
}

TEST_F(WarehouseFlagsTest, ABigQueryUrlsParametersAreChecked) {
  const std::pair<const char*, const char*> cases[] = {
      {"bigquery://my-project/d?location=EU&location=US", "give location once"},
      {"bigquery://my-project/d?location=", "location '' is not one"},
      {"bigquery://my-project/d?location=E%55", "location 'E%55' is not one"},
      {"bigquery://my-project/d?region=EU", "'region' is not a parameter it takes"},
      {"bigquery://my-project/d?endpoint=http://example.com", "https"},
      {"bigquery://my-project/d?max_commit_delay=soon", "max_commit_delay 'soon' is not seconds"},
      {"bigquery://my-project/d?max_commit_delay=-1", "max_commit_delay '-1' is not seconds"},
  };
  for (const auto& [url, expected] : cases) {
    auto opened = OpenWarehouse(url);
    ASSERT_FALSE(opened.ok()) << url;
    EXPECT_NE(std::string(opened.status().message()).find(expected), std::string::npos)
        << url << ": " << opened.status().message();
  }
}

}  // namespace
}  // namespace bikestream::cli
