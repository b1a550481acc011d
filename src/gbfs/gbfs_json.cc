#include "gbfs/gbfs_json.h"

#include <fmt/format.h>

namespace bikestream::gbfs {

std::optional<TimestampMicros> TimeOf(const simdjson::dom::element& value) {
  if (std::int64_t seconds = 0; value.get_int64().get(seconds) == simdjson::SUCCESS) {
    if (seconds < 0 || seconds > 253402300799) return std::nullopt;  // Past 9999-12-31.
    return seconds * kMicrosPerSecond;
  }
  if (std::string_view text; value.get_string().get(text) == simdjson::SUCCESS) {
    auto parsed = ParseRfc3339(text);
    if (parsed.ok()) return *parsed;
  }
  return std::nullopt;
}

absl::StatusOr<Header> ParseHeader(simdjson::dom::parser& parser, std::string_view json, std::string_view kind) {
  simdjson::dom::element document;
  if (auto error = parser.parse(json.data(), json.size()).get(document); error) {
    return absl::InvalidArgumentError(fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  Header header;
  simdjson::dom::element updated;
  if (document["last_updated"].get(updated) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(fmt::format("not a {} document: no last_updated", kind));
  }
  auto updated_time = TimeOf(updated);
  if (!updated_time) return absl::InvalidArgumentError("last_updated is not a time");
  header.last_updated = *updated_time;
  if (std::int64_t ttl = 0; document["ttl"].get_int64().get(ttl) == simdjson::SUCCESS && ttl >= 0) {
    header.ttl_seconds = ttl;
  }
  if (document["version"].get_string().get(header.version) != simdjson::SUCCESS) header.version = {};
  if (document["data"]["stations"].get_array().get(header.stations) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(fmt::format("not a {} document: no data.stations list", kind));
  }
  return header;
}

}  // namespace bikestream::gbfs
