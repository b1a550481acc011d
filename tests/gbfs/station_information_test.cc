// station_information documents: Oslo's real one (checked with another JSON library), GBFS 3.0's
// localized names, stations left out with why, and documents that are not station_information.
#include "gbfs/station_information.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/limits.h"
#include "gbfs/station_status.h"
#include "support/oslo_week.h"

namespace bikestream::gbfs {
namespace {

using testing_support::kOsloStationInformation;

TEST(StationInformation, ReadsOslosRealDocument) {
  const std::string document =
      ReadWholeFile(kOsloStationInformation, limits::kStationInformationFile).value();
  auto information = ParseStationInformation(document);
  ASSERT_TRUE(information.ok()) << information.status();
  EXPECT_TRUE(information->problems.empty());
  EXPECT_EQ(information->ttl_seconds, 10);

  const std::vector<Station> stations = testing_support::OsloStations();
  EXPECT_EQ(information->last_updated, stations.at(0).last_updated);
  EXPECT_EQ(information->last_updated, 1666548064 * kMicrosPerSecond);
  ASSERT_EQ(stations.size(), 260u);
  EXPECT_EQ(information->stations, stations);
}

// The two station lists swapped (a common slip with two URLs of one system): each says what it
// got, once, instead of one problem per station.
TEST(StationInformation, SwappedDocumentsAreRecognised) {
  const std::string information =
      ReadWholeFile(kOsloStationInformation, limits::kStationInformationFile).value();
  auto as_status = ParseStationStatus(information);
  ASSERT_EQ(as_status.status().code(), absl::StatusCode::kFailedPrecondition) << as_status.status();
  EXPECT_NE(as_status.status().message().find(
                "this is a station_information document, not station_status"),
            std::string::npos);
  auto as_information = ParseStationInformation(
      R"({"last_updated":1728259785,"ttl":15,"data":{"stations":[{"station_id":"5220","last_reported":1728259792,)"
      R"("num_bikes_available":1}]}})");
  ASSERT_EQ(as_information.status().code(), absl::StatusCode::kFailedPrecondition)
      << as_information.status();
  EXPECT_NE(as_information.status().message().find(
                "this is a station_status document, not station_information"),
            std::string::npos);
}

TEST(StationInformation, ReadsGbfs3NamesEnglishFirst) {
  auto information =
      ParseStationInformation(R"({"last_updated":"2024-10-07T00:09:45Z","ttl":60,"version":"3.0",
      "data":{"stations":[
        {"station_id":"a","name":[{"text":"Jernbanetorget","language":"nb"},{"text":"Central Station","language":"en"}],
         "lat":59.911,"lon":10.75,"capacity":30},
        {"station_id":"b","name":[{"text":"Tøyen","language":"nb"}],"lat":59.915,"lon":10.77}]}})");
  ASSERT_TRUE(information.ok()) << information.status();
  const TimestampMicros updated = *ParseRfc3339("2024-10-07T00:09:45Z");
  EXPECT_EQ(information->stations,
            (std::vector<Station>{{"a", "Central Station", 59.911, 10.75, 30, updated},
                                  {"b", "Tøyen", 59.915, 10.77, std::nullopt, updated}}));
}

TEST(StationInformation, AStationWithoutItsFieldsIsLeftOutAndNamed) {
  auto information = ParseStationInformation(R"({"last_updated":1,"data":{"stations":[
      {"name":"no id","lat":1,"lon":1},
      {"station_id":"nameless","lat":1,"lon":1},
      {"station_id":"nowhere","name":"N"},
      {"station_id":"off-earth","name":"O","lat":91,"lon":1},
      {"station_id":"fine","name":"F","lat":-33.9,"lon":151.2,"capacity":-1},
      {"station_id":"fine","name":"F again","lat":1,"lon":1},
      {"station_id":"nul","name":"N\u0000","lat":1,"lon":1}]}})");
  ASSERT_TRUE(information.ok()) << information.status();
  ASSERT_EQ(information->stations.size(), 1u);
  EXPECT_EQ(information->stations[0].name, "F");
  EXPECT_EQ(information->stations[0].capacity, std::nullopt);  // A negative capacity is none.
  EXPECT_EQ(information->problems,
            (std::vector<std::string>{"station #0: no station_id", "station nameless: no name",
                                      "station nowhere: no lat and lon in range",
                                      "station off-earth: no lat and lon in range",
                                      "station fine: listed again, the second left out",
                                      "station #6: a NUL character in its id or name"}));
}

TEST(StationInformation, WhatIsNotStationInformationSaysWhatIsMissing) {
  const std::pair<const char*, const char*> cases[] = {
      {"<html>502 Bad Gateway</html>", "not JSON"},
      {R"({"last_updated":1,"data":{"stations":[{"station_id":"a")", "not JSON"},  // Truncated.
      {R"({"data":{"stations":[]}})", "not a station_information document: no last_updated"},
      {R"({"last_updated":1,"data":{"bikes":[]}})",
       "not a station_information document: no data.stations list"},
  };
  for (const auto& [json, expected] : cases) {
    auto information = ParseStationInformation(json);
    ASSERT_FALSE(information.ok()) << json;
    EXPECT_EQ(information.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(information.status().message().find(expected), std::string::npos)
        << information.status();
  }
}

}  // namespace
}  // namespace bikestream::gbfs
