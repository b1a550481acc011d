// A GBFS auto-discovery document (gbfs.json): where a system's feeds are. GBFS 2.x lists them
// per language (data.<language>.feeds), 3.0 once (data.feeds).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bikestream::gbfs {

struct FeedUrls {
  std::string station_status;
  std::string station_information;  // "" when the system does not publish one.
};

// Whether `json` is a discovery document (has data.feeds or data.<language>.feeds) rather
// than a feed itself.
bool IsDiscovery(std::string_view json);

// The feeds' URLs; of 2.x's languages, English when listed, else the first. kInvalidArgument
// when the document is not gbfs.json or lists no station_status.
absl::StatusOr<FeedUrls> ParseDiscovery(std::string_view json);

}  // namespace bikestream::gbfs
