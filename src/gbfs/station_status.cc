#include "gbfs/station_status.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <optional>
#include <variant>

#include "common/redact.h"
#include "gbfs/gbfs_json.h"

namespace bikestream::gbfs {
namespace {

using simdjson::dom::element;

// A station id or value as it may be quoted in a problem: one line, bounded.
std::string Quoted(std::string_view text) { return RemoteText(text, 100); }

// The count in the station's `field`, or why it is no count of bikes; nullopt when the
// station has no such field.
std::optional<std::variant<std::int64_t, std::string>> CountOf(const element& station,
                                                               std::string_view id,
                                                               const char* field) {
  element value;
  if (station[field].get(value) != simdjson::SUCCESS) return std::nullopt;
  std::int64_t count = 0;
  if (value.get_int64().get(count) != simdjson::SUCCESS || count < 0 ||
      count > kMaxBikesAtStation) {
    return fmt::format("station {}: {} {} is no count of bikes (a whole number from 0 to {})",
                       Quoted(id), field, Quoted(simdjson::to_string(value)), kMaxBikesAtStation);
  }
  return count;
}

// A station's report, or why it has none.
std::variant<StationReport, std::string> ReportOf(const element& station, std::size_t index,
                                                  TimestampMicros last_updated) {
  StationReport report;
  std::string_view id;
  if (station["station_id"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
    return fmt::format("station #{}: no station_id", index);
  }
  if (id.size() > kMaxStationIdBytes) {
    return fmt::format(
        "station #{}: its station_id is {} bytes long, more than a station's id may be ({})", index,
        id.size(), kMaxStationIdBytes);
  }
  report.station_id = std::string(id);
  element reported;
  if (station["last_reported"].get(reported) != simdjson::SUCCESS) {
    return fmt::format("station {}: no last_reported", Quoted(id));
  }
  auto time = TimeOf(reported);
  if (!time) return fmt::format("station {}: last_reported is not a time", Quoted(id));
  if (*time > last_updated + kMaxReportAhead) {
    return fmt::format(
        "station {}: last_reported {} is more than an hour past the snapshot's last_updated {}: "
        "left "
        "out (is the station's clock wrong?)",
        Quoted(id), FormatRfc3339(*time), FormatRfc3339(last_updated));
  }
  report.last_reported = *time;
  // 2.x counts bikes; 3.0 renamed the field to vehicles.
  auto bikes = CountOf(station, id, "num_bikes_available");
  if (!bikes) bikes = CountOf(station, id, "num_vehicles_available");
  if (!bikes)
    return fmt::format("station {}: no num_bikes_available or num_vehicles_available count",
                       Quoted(id));
  if (auto* problem = std::get_if<std::string>(&*bikes)) return std::move(*problem);
  report.bikes_available = std::get<std::int64_t>(*bikes);
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
    auto report = ReportOf(station, index++, status.last_updated);
    if (auto* ok = std::get_if<StationReport>(&report)) {
      status.stations.push_back(std::move(*ok));
    } else {
      status.problems.push_back(std::move(std::get<std::string>(report)));
    }
  }
  return status;
}

}  // namespace bikestream::gbfs
