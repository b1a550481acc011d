#include "gbfs/station_status.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <optional>
#include <variant>

#include "gbfs/gbfs_json.h"

namespace bikestream::gbfs {
namespace {

using simdjson::dom::element;

std::optional<std::int64_t> CountOf(const element& station, const char* field) {
  std::int64_t count = 0;
  if (station[field].get_int64().get(count) != simdjson::SUCCESS || count < 0) return std::nullopt;
  return count;
}

// A station's report, or why it has none.
std::variant<StationReport, std::string> ReportOf(const element& station, std::size_t index) {
  StationReport report;
  std::string_view id;
  if (station["station_id"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
    return fmt::format("station #{}: no station_id", index);
  }
  report.station_id = std::string(id);
  element reported;
  if (station["last_reported"].get(reported) != simdjson::SUCCESS) {
    return fmt::format("station {}: no last_reported", id);
  }
  auto time = TimeOf(reported);
  if (!time) return fmt::format("station {}: last_reported is not a time", id);
  report.last_reported = *time;
  // 2.x counts bikes; 3.0 renamed the field to vehicles.
  auto bikes = CountOf(station, "num_bikes_available");
  if (!bikes) bikes = CountOf(station, "num_vehicles_available");
  if (!bikes) return fmt::format("station {}: no num_bikes_available or num_vehicles_available count", id);
  report.bikes_available = *bikes;
  return report;
}

}  // namespace

absl::StatusOr<StationStatus> ParseStationStatus(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  auto header = ParseHeader(parser, json, "station_status");
  if (!header.ok()) return header.status();
  StationStatus status{.last_updated = header->last_updated,
                       .ttl_seconds = header->ttl_seconds,
                       .version = std::string(header->version)};
  std::size_t index = 0;
  for (element station : header->stations) {
    auto report = ReportOf(station, index++);
    if (auto* ok = std::get_if<StationReport>(&report)) {
      status.stations.push_back(std::move(*ok));
    } else {
      status.problems.push_back(std::move(std::get<std::string>(report)));
    }
  }
  return status;
}

}  // namespace bikestream::gbfs
