// A bike-share station: where it is and what it holds, as GBFS station_information describes
// it. The `stations` table keeps one per station_id, for people and the console.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "event/timestamp.h"

namespace bikestream {

struct Station {
  std::string station_id;
  std::string name;
  double lat = 0;
  double lon = 0;
  std::optional<std::int64_t> capacity;  // Optional in GBFS.
  TimestampMicros last_updated = 0;      // When the system last described it (the document's).

  friend bool operator==(const Station&, const Station&) = default;
};

}  // namespace bikestream
