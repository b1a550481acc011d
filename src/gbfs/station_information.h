// A GBFS station_information.json document: where each station is and what it holds, for the
// warehouse's `stations` table. GBFS 2.x names a station with a string, 3.0 with a list of
// {text, language}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "event/station.h"

namespace bikestream::gbfs {

struct StationInformation {
  TimestampMicros last_updated = 0;
  std::int64_t ttl_seconds = 0;
  std::vector<Station> stations;      // Each with the document's last_updated.
  std::vector<std::string> problems;  // The stations left out, each with why.
};

// Reads one document; of 3.0's names, English when given, else the first. A station without
// an id, a name or coordinates in range, or listed a second time, is left out and named in
// `problems`; a document without last_updated or data.stations is kInvalidArgument.
absl::StatusOr<StationInformation> ParseStationInformation(std::string_view json);

}  // namespace bikestream::gbfs
