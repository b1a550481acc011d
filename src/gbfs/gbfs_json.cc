#include "gbfs/gbfs_json.h"

#include <fmt/format.h>

#include <optional>

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

namespace {

// The other kind of station list, when the first station of `stations` has its fields and
// none of `kind`'s: station_information names and places stations, station_status counts bikes.
std::optional<std::string_view> OtherKind(simdjson::dom::array stations, std::string_view kind) {
  simdjson::dom::object first;
  if (stations.size() == 0 || stations.at(0).get_object().get(first) != simdjson::SUCCESS)
    return std::nullopt;
  const auto has = [&](const char* field) { return first[field].error() == simdjson::SUCCESS; };
  const bool counts = has("num_bikes_available") || has("num_vehicles_available");
  const bool places = has("lat") && has("lon");
  if (kind == "station_status" && places && !counts) return "station_information";
  if (kind == "station_information" && counts && !places) return "station_status";
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Header> ParseHeader(simdjson::dom::parser& parser, std::string_view json,
                                   std::string_view kind) {
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
  if (document["version"].get_string().get(header.version) != simdjson::SUCCESS)
    header.version = {};
  if (document["data"]["stations"].get_array().get(header.stations) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        fmt::format("not a {} document: no data.stations list", kind));
  }
  if (auto other = OtherKind(header.stations, kind)) {
    // FailedPrecondition: not a bad snapshot among good ones, but the wrong feed altogether.
    return absl::FailedPreconditionError(fmt::format(
        "this is a {} document, not {}: the two are swapped (give each file or URL its place)",
        *other, kind));
  }
  return header;
}

}  // namespace bikestream::gbfs
