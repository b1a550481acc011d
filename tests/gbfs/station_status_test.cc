// station_status documents of GBFS 2.x and 3.0, stations with missing fields, and documents
// that are not station_status at all.
#include "gbfs/station_status.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace bikestream::gbfs {
namespace {

TEST(StationStatus, ReadsGbfs2) {
  auto status =
      ParseStationStatus(R"({"last_updated":1728259785,"ttl":15,"version":"2.3","data":{"stations":[
      {"station_id":"5220","last_reported":1728259792,"num_vehicles_available":1,"num_bikes_available":1},
      {"station_id":"5217","last_reported":1728259700,"num_bikes_available":4}]}})");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->last_updated, 1728259785 * kMicrosPerSecond);
  EXPECT_EQ(status->ttl_seconds, 15);
  EXPECT_EQ(status->version, "2.3");
  EXPECT_EQ(status->stations,
            (std::vector<StationReport>{{"5220", 1728259792 * kMicrosPerSecond, 1},
                                        {"5217", 1728259700 * kMicrosPerSecond, 4}}));
  EXPECT_TRUE(status->problems.empty());
}

TEST(StationStatus, ReadsGbfs3TimesAndVehicleCounts) {
  auto status =
      ParseStationStatus(R"({"last_updated":"2024-10-07T00:09:45+02:00","ttl":0,"version":"3.0",
      "data":{"stations":[{"station_id":"a","last_reported":"2024-10-07T00:09:40.5+02:00","num_vehicles_available":7}]}})");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->last_updated, *ParseRfc3339("2024-10-06T22:09:45Z"));
  ASSERT_EQ(status->stations.size(), 1u);
  EXPECT_EQ(status->stations[0].last_reported, *ParseRfc3339("2024-10-06T22:09:40.5Z"));
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
  const std::string negative =
      "station negative: num_bikes_available -2 is no count of bikes (a whole number from 0 to "
      "10000)";
  EXPECT_EQ(
      status->problems,
      (std::vector<std::string>{
          "station #0: no station_id", "station no-time: no last_reported",
          "station bad-time: last_reported is not a time",
          "station no-count: no num_bikes_available or num_vehicles_available count", negative}));
}

// An id no event could carry only grows the poller's state: left out.
TEST(StationStatus, AStationIdPastItsBoundIsLeftOut) {
  const std::string json = fmt::format(
      R"({{"last_updated":1,"data":{{"stations":[{{"station_id":"{}","last_reported":1,"num_bikes_available":1}}]}}}})",
      std::string(kMaxStationIdBytes + 1, 'x'));
  auto status = ParseStationStatus(json);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->stations.empty());
  EXPECT_EQ(
      status->problems,
      std::vector<std::string>{
          "station #0: its station_id is 1025 bytes long, more than a station's id may be (1024)"});
}

// Counts no station has (a change wider than 32 bits was once stored as a small valid one), and
// a report dated far past its snapshot (one from 9999 froze its station for good), are left
// out and named; so is a count that is not a whole number.
TEST(StationStatus, CountsOutOfRangeAndReportsFromTheFutureAreLeftOutAndNamed) {
  auto status = ParseStationStatus(R"({"last_updated":1728259785,"data":{"stations":[
      {"station_id":"huge","last_reported":1728259780,"num_bikes_available":4294967301},
      {"station_id":"past-int64","last_reported":1728259780,"num_bikes_available":18446744073709551615},
      {"station_id":"fraction","last_reported":1728259780,"num_bikes_available":2.5},
      {"station_id":"beyond","last_reported":1728259780,"num_bikes_available":10001},
      {"station_id":"far-ahead","last_reported":253402300799,"num_bikes_available":3},
      {"station_id":"skewed","last_reported":1728263386,"num_bikes_available":3},
      {"station_id":"bad\u001b[2Jname","last_reported":1728259780,"num_bikes_available":-1},
      {"station_id":"at-the-bounds","last_reported":1728263385,"num_bikes_available":10000}]}})");
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->stations.size(), 1u);
  EXPECT_EQ(status->stations[0].station_id, "at-the-bounds");
  EXPECT_EQ(
      status->problems,
      (std::vector<std::string>{
          "station huge: num_bikes_available 4294967301 is no count of bikes (a whole number from "
          "0 to 10000)",
          std::string("station past-int64: num_bikes_available 18446744073709551615 is no count of "
                      "bikes ") +
              "(a whole number from 0 to 10000)",
          "station fraction: num_bikes_available 2.5 is no count of bikes (a whole number from 0 "
          "to 10000)",
          "station beyond: num_bikes_available 10001 is no count of bikes (a whole number from 0 "
          "to 10000)",
          std::string("station far-ahead: last_reported 9999-12-31T23:59:59Z is more than an hour "
                      "past the ") +
              "snapshot's last_updated 2024-10-07T00:09:45Z: left out (is the station's clock "
              "wrong?)",
          std::string(
              "station skewed: last_reported 2024-10-07T01:09:46Z is more than an hour past the ") +
              "snapshot's last_updated 2024-10-07T00:09:45Z: left out (is the station's clock "
              "wrong?)",
          // A feed's text reaches a terminal without its control characters.
          "station bad [2Jname: num_bikes_available -1 is no count of bikes (a whole number from 0 "
          "to 10000)"}));
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
    EXPECT_NE(std::string(status.status().message()).find(expected), std::string::npos)
        << status.status();
  }
}

}  // namespace
}  // namespace bikestream::gbfs
