// A GBFS station_information.json document: where each station is and what it holds, for the
// warehouse's `stations` table. GBFS 2.x names a station with a string, 3.0 with a list of
// {text, language}.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bikestream::gbfs {

struct StationInfo {
  std::string station_id;
  std::string name;
  double lat = 0;
  double lon = 0;
  std::optional<std::int64_t> capacity;  // Optional in GBFS.

  friend bool operator==(const StationInfo&, const StationInfo&) = default;
};

struct StationInformation {
  std::vector<StationInfo> stations;
  std::vector<std::string> problems;  // The stations left out, each with why.
};

// Reads one document; of 3.0's names, English when given, else the first. A station without
// an id, a name or coordinates in range is left out and named in `problems`; a document
// without data.stations is kInvalidArgument.
absl::StatusOr<StationInformation> ParseStationInformation(std::string_view json);

}  // namespace bikestream::gbfs
