#include "gbfs/station_information.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <variant>

namespace bikestream::gbfs {
namespace {

// 2.x: "name": "Sentrum"; 3.0: "name": [{"text": "Sentrum", "language": "nb"}, …].
std::optional<std::string> NameOf(const simdjson::dom::element& station) {
  if (std::string_view name; station["name"].get_string().get(name) == simdjson::SUCCESS) return std::string(name);
  simdjson::dom::array names;
  if (station["name"].get_array().get(names) != simdjson::SUCCESS) return std::nullopt;
  std::optional<std::string> first;
  for (simdjson::dom::element localized : names) {
    std::string_view text;
    if (localized["text"].get_string().get(text) != simdjson::SUCCESS) continue;
    std::string_view language;
    if (localized["language"].get_string().get(language) == simdjson::SUCCESS && language == "en") {
      return std::string(text);
    }
    if (!first) first = std::string(text);
  }
  return first;
}

std::variant<StationInfo, std::string> InfoOf(const simdjson::dom::element& station, std::size_t index) {
  StationInfo info;
  std::string_view id;
  if (station["station_id"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
    return fmt::format("station #{}: no station_id", index);
  }
  info.station_id = std::string(id);
  auto name = NameOf(station);
  if (!name) return fmt::format("station {}: no name", id);
  info.name = std::move(*name);
  if (station["lat"].get_double().get(info.lat) != simdjson::SUCCESS ||
      station["lon"].get_double().get(info.lon) != simdjson::SUCCESS || info.lat < -90 || info.lat > 90 ||
      info.lon < -180 || info.lon > 180) {
    return fmt::format("station {}: no lat and lon in range", id);
  }
  if (std::int64_t capacity = 0; station["capacity"].get_int64().get(capacity) == simdjson::SUCCESS && capacity >= 0) {
    info.capacity = capacity;
  }
  return info;
}

}  // namespace

absl::StatusOr<StationInformation> ParseStationInformation(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (auto error = parser.parse(json.data(), json.size()).get(document); error) {
    return absl::InvalidArgumentError(fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::array stations;
  if (document["data"]["stations"].get_array().get(stations) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not a station_information document: no data.stations list");
  }
  StationInformation information;
  std::size_t index = 0;
  for (simdjson::dom::element station : stations) {
    auto info = InfoOf(station, index++);
    if (auto* ok = std::get_if<StationInfo>(&info)) {
      information.stations.push_back(std::move(*ok));
    } else {
      information.problems.push_back(std::move(std::get<std::string>(info)));
    }
  }
  return information;
}

}  // namespace bikestream::gbfs
