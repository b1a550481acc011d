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

// The most bikes a report may count. Oslo's largest station docks 50; a count past this (or
// below 0) is a broken or hostile feed, never a station, and becomes no event: its change
// would be a wrong number stored as a valid one.
inline constexpr std::int64_t kMaxBikesAtStation = 10'000;
// How far a station's last_reported may be ahead of its snapshot's last_updated. Oslo's are
// 0 to 14 s ahead (ttl 15 s); a report dated further on (9999-12-31, say) is left out, or it
// would become the station's latest report and every real one after it would look older.
inline constexpr DurationMicros kMaxReportAhead = 60 * 60 * kMicrosPerSecond;

// The longest station id kept. Events want at most 64 bytes (longer ones become `too_long` dead
// letters downstream); past this an id only makes the poller's state grow, and is left out.
inline constexpr std::size_t kMaxStationIdBytes = 1024;

struct StationReport {
  std::string station_id;
  TimestampMicros last_reported = 0;
  std::int64_t bikes_available = 0;

  friend bool operator==(const StationReport&, const StationReport&) = default;
};

struct StationStatus {
  TimestampMicros last_updated = 0;
  std::int64_t ttl_seconds = 0;
  std::string version;  // "2.3", "3.0"; "" when the feed does not say.
  std::vector<StationReport> stations;
  std::vector<std::string> problems;  // The stations left out, each with why.
};

// Reads one document. A station without a usable id (at most kMaxStationIdBytes), time or count
// (a whole number from 0 to
// kMaxBikesAtStation), or whose last_reported is more than kMaxReportAhead past the document's
// last_updated, is left out and named in `problems`; a document that is not station_status at all
// (not JSON, no data.stations, no last_updated) is kInvalidArgument saying what is missing.
absl::StatusOr<StationStatus> ParseStationStatus(std::string_view json);

}  // namespace bikestream::gbfs
