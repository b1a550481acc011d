#include "gbfs/station_information.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <set>
#include <variant>

#include "gbfs/gbfs_json.h"

namespace bikestream::gbfs {
namespace {

using simdjson::dom::element;

// 2.x: "name": "Sentrum"; 3.0: "name": [{"text": "Sentrum", "language": "nb"}, …].
std::optional<std::string> NameOf(const element& station) {
  if (std::string_view name; station["name"].get_string().get(name) == simdjson::SUCCESS)
    return std::string(name);
  simdjson::dom::array names;
  if (station["name"].get_array().get(names) != simdjson::SUCCESS) return std::nullopt;
  std::optional<std::string> first;
  for (element localized : names) {
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

// A station, or why it was left out.
std::variant<Station, std::string> StationOf(const element& entry, std::size_t index) {
  Station station;
  std::string_view id;
  if (entry["station_id"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
    return fmt::format("station #{}: no station_id", index);
  }
  station.station_id = std::string(id);
  auto name = NameOf(entry);
  if (!name) return fmt::format("station {}: no name", id);
  // JSON allows \u0000; PostgreSQL's text does not, and one such row would refuse them all.
  if (id.find('\0') != std::string_view::npos || name->find('\0') != std::string::npos) {
    return fmt::format("station #{}: a NUL character in its id or name", index);
  }
  station.name = std::move(*name);
  if (entry["lat"].get_double().get(station.lat) != simdjson::SUCCESS ||
      entry["lon"].get_double().get(station.lon) != simdjson::SUCCESS ||
      !(station.lat >= -90 && station.lat <= 90) || !(station.lon >= -180 && station.lon <= 180)) {
    return fmt::format("station {}: no lat and lon in range", id);
  }
  if (std::int64_t capacity = 0;
      entry["capacity"].get_int64().get(capacity) == simdjson::SUCCESS && capacity >= 0) {
    station.capacity = capacity;
  }
  return station;
}

}  // namespace

absl::StatusOr<StationInformation> ParseStationInformation(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  auto header = ParseHeader(parser, json, "station_information");
  if (!header.ok()) return header.status();
  StationInformation information{.last_updated = header->last_updated,
                                 .ttl_seconds = header->ttl_seconds};
  std::set<std::string, std::less<>> seen;
  std::size_t index = 0;
  for (element entry : header->stations) {
    auto station = StationOf(entry, index++);
    if (auto* why = std::get_if<std::string>(&station)) {
      information.problems.push_back(std::move(*why));
    } else if (Station& ok = std::get<Station>(station); !seen.insert(ok.station_id).second) {
      information.problems.push_back(
          fmt::format("station {}: listed again, the second left out", ok.station_id));
    } else {
      ok.last_updated = information.last_updated;
      information.stations.push_back(std::move(ok));
    }
  }
  return information;
}

}  // namespace bikestream::gbfs
