// A GBFS station_status.json document, as much of it as becomes events: each station's latest
// report (when it was made, and how many bikes it had). GBFS 2.x (POSIX seconds,
// num_bikes_available) and 3.0 (RFC 3339 times, num_vehicles_available) both read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "event/timestamp.h"

namespace bikestream::gbfs {

struct StationReport {
  std::string station_id;
  TimestampMicros last_reported = 0;
  std::int64_t bikes_available = 0;

  friend bool operator==(const StationReport&, const StationReport&) = default;
};

struct StationStatus {
  TimestampMicros last_updated = 0;
  std::int64_t ttl_seconds = 0;
  std::string version;                 // "2.3", "3.0"; "" when the feed does not say.
  std::vector<StationReport> stations;
  std::vector<std::string> problems;   // The stations left out, each with why.
};

// Reads one document. A station without a usable id, time or count is left out and named in
// `problems`; a document that is not station_status at all (not JSON, no data.stations, no
// last_updated) is kInvalidArgument saying what is missing.
absl::StatusOr<StationStatus> ParseStationStatus(std::string_view json);

}  // namespace bikestream::gbfs
