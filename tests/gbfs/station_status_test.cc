// station_status documents of GBFS 2.x and 3.0, stations with missing fields, and documents
// that are not station_status at all.
#include "gbfs/station_status.h"

#include <gtest/gtest.h>

namespace bikestream::gbfs {
namespace {

TEST(StationStatus, ReadsGbfs2) {
  auto status = ParseStationStatus(R"({"last_updated":1728259785,"ttl":15,"version":"2.3","data":{"stations":[
      {"station_id":"5220","last_reported":1728259792,"num_vehicles_available":1,"num_bikes_available":1},
      {"station_id":"5217","last_reported":1728259700,"num_bikes_available":4}]}})");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->last_updated, 1728259785 * kMicrosPerSecond);
  EXPECT_EQ(status->ttl_seconds, 15);
  EXPECT_EQ(status->version, "2.3");
  EXPECT_EQ(status->stations, (std::vector<StationReport>{{"5220", 1728259792 * kMicrosPerSecond, 1},
                                                          {"5217", 1728259700 * kMicrosPerSecond, 4}}));
  EXPECT_TRUE(status->problems.empty());
}

TEST(StationStatus, ReadsGbfs3TimesAndVehicleCounts) {
  auto status = ParseStationStatus(R"({"last_updated":"2024-10-07T00:09:45+02:00","ttl":0,"version":"3.0",
      "data":{"stations":[{"station_id":"a","last_reported":"2024-10-07T00:09:40.5Z","num_vehicles_available":7}]}})");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->last_updated, *ParseRfc3339("2024-10-06T22:09:45Z"));
  ASSERT_EQ(status->stations.size(), 1u);
  EXPECT_EQ(status->stations[0].last_reported, *ParseRfc3339("2024-10-07T00:09:40.5Z"));
  EXPECT_EQ(status->stations[0].bikes_available, 7);
}

TEST(StationStatus, AStationWithoutItsFieldsIsLeftOutAndNamed) {
  auto status = ParseStationStatus(R"({"last_updated":1,"data":{"stations":[
      {"last_reported":5,"num_bikes_available":1},
      {"station_id":"no-time","num_bikes_available":1},
      {"station_id":"bad-time","last_reported":"yesterday","num_bikes_available":1},
      {"station_id":"no-count","last_reported":5},
      {"station_id":"negative","last_reported":5,"num_bikes_available":-2},
      {"station_id":"fine","last_reported":5,"num_bikes_available":0}]}})");
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->stations.size(), 1u);
  EXPECT_EQ(status->stations[0].station_id, "fine");
  EXPECT_EQ(status->problems, (std::vector<std::string>{
                                  "station #0: no station_id", "station no-time: no last_reported",
                                  "station bad-time: last_reported is not a time",
                                  "station no-count: no num_bikes_available or num_vehicles_available count",
                                  "station negative: no num_bikes_available or num_vehicles_available count"}));
}

TEST(StationStatus, WhatIsNotStationStatusSaysWhatIsMissing) {
  const std::pair<const char*, const char*> cases[] = {
      {"<html>502 Bad Gateway</html>", "not JSON"},
      {R"({"last_updated":1,"data":{"stations":[{"station_id":"a")", "not JSON"},  // Truncated.
      {R"({"data":{"stations":[]}})", "no last_updated"},
      {R"({"last_updated":1,"data":{"bikes":[]}})", "no data.stations list"},
      {R"({"last_updated":"soon","data":{"stations":[]}})", "last_updated is not a time"},
  };
  for (const auto& [json, expected] : cases) {
    auto status = ParseStationStatus(json);
    ASSERT_FALSE(status.ok()) << json;
    EXPECT_NE(std::string(status.status().message()).find(expected), std::string::npos) << status.status();
  }
}

}  // namespace
}  // namespace bikestream::gbfs
