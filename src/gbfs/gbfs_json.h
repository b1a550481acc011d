// What every GBFS document shares, read with simdjson: times and the document's header.
// Private to this folder.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "event/timestamp.h"

namespace bikestream::gbfs {

// A time as GBFS writes it: POSIX seconds (2.x) or RFC 3339 (3.0); nullopt for anything else.
std::optional<TimestampMicros> TimeOf(const simdjson::dom::element& value);

struct Header {
  TimestampMicros last_updated = 0;
  std::int64_t ttl_seconds = 0;
  std::string_view version;       // "" when the feed does not say.
  simdjson::dom::array stations;  // In the parser's memory: valid until it parses again.
};

// Parses `json` with `parser` and reads its last_updated, ttl, version and data.stations;
// kInvalidArgument naming what is missing, for a document of `kind` ("station_status");
// kFailedPrecondition when it is the other kind of station list (the two swapped).
absl::StatusOr<Header> ParseHeader(simdjson::dom::parser& parser, std::string_view json,
                                   std::string_view kind);

}  // namespace bikestream::gbfs
