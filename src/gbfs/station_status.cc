#include "gbfs/station_status.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <optional>
#include <variant>

namespace bikestream::gbfs {
namespace {

using simdjson::dom::element;

// A time as GBFS writes it: POSIX seconds (2.x) or RFC 3339 (3.0).
std::optional<TimestampMicros> TimeOf(const element& value) {
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
  element document;
  if (auto error = parser.parse(json.data(), json.size()).get(document); error) {
    return absl::InvalidArgumentError(fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  StationStatus status;
  element updated;
  if (document["last_updated"].get(updated) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not a station_status document: no last_updated");
  }
  auto updated_time = TimeOf(updated);
  if (!updated_time) return absl::InvalidArgumentError("last_updated is not a time");
  status.last_updated = *updated_time;
  if (std::int64_t ttl = 0; document["ttl"].get_int64().get(ttl) == simdjson::SUCCESS && ttl >= 0) {
    status.ttl_seconds = ttl;
  }
  if (std::string_view version; document["version"].get_string().get(version) == simdjson::SUCCESS) {
    status.version = std::string(version);
  }
  simdjson::dom::array stations;
  if (document["data"]["stations"].get_array().get(stations) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not a station_status document: no data.stations list");
  }
  std::size_t index = 0;
  for (element station : stations) {
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
