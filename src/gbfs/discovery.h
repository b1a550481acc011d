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
  std::string system_information;   // "" when not listed.
};

// The feeds' URLs; of 2.x's languages, English when listed, else the first. nullopt when the
// document is JSON but no discovery document (no data.feeds or data.<language>.feeds: a feed
// itself, say); kInvalidArgument when it is not JSON, or lists no station_status.
absl::StatusOr<std::optional<FeedUrls>> ParseDiscovery(std::string_view json);

// The system_id of a system_information document (data.system_id): what names the system.
// kInvalidArgument when the document has none.
absl::StatusOr<std::string> ParseSystemId(std::string_view json);

// Whether a feed that gbfs.json lists (`name`, at `listed`) may be fetched, for a gbfs.json
// asked for at `feed`: over http or https only, and over https only when `feed` is https — a
// feed can make bikestream speak no other protocol (gopher://, file://) and cannot have its
// requests handed over in the clear. kInvalidArgument naming both, secrets masked; "" (not
// listed) passes.
absl::Status CheckListedUrl(const std::string& feed, std::string_view name,
                            const std::string& listed);

}  // namespace bikestream::gbfs
