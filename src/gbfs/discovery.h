// A GBFS auto-discovery document (gbfs.json): where a system's feeds are. GBFS 2.x lists them
// per language (data.<language>.feeds), 3.0 once (data.feeds).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bikestream::gbfs {

struct FeedUrls {
  std::string station_status;
  std::string station_information;  // "" when the system does not publish one.
};

// The feeds' URLs; of 2.x's languages, English when listed, else the first. nullopt when the
// document is JSON but no discovery document (no data.feeds or data.<language>.feeds: a feed
// itself, say); kInvalidArgument when it is not JSON, or lists no station_status.
absl::StatusOr<std::optional<FeedUrls>> ParseDiscovery(std::string_view json);

}  // namespace bikestream::gbfs
