#include "gbfs/change_detector.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace bikestream::gbfs {

std::string ChangeEventId(std::string_view system, std::string_view station_id, TimestampMicros reported) {
  const TimestampMicros seconds = reported / kMicrosPerSecond;
  const TimestampMicros fraction = reported % kMicrosPerSecond;
  if (fraction == 0) return fmt::format("{}:{}:{}", system, station_id, seconds);
  return fmt::format("{}:{}:{}.{:06}", system, station_id, seconds, fraction);
}

std::vector<Event> ChangeDetector::Apply(const StationStatus& status) {
  std::vector<Event> events;
  for (const StationReport& report : status.stations) {
    auto [it, first] = last_.try_emplace(report.station_id, Last{report.last_reported, report.bikes_available});
    if (first) continue;  // The baseline.
    Last& last = it->second;
    if (report.last_reported <= last.reported) continue;
    const std::int64_t change = report.bikes_available - last.bikes;
    if (change != 0) {
      events.push_back(Event{.event_id = ChangeEventId(system_, report.station_id, report.last_reported),
                             .station_id = report.station_id,
                             .ts = report.last_reported,
                             .kind = change < 0 ? Kind::kPickup : Kind::kDropoff,
                             .delta = static_cast<std::int32_t>(change < 0 ? -change : change)});
    }
    last = {report.last_reported, report.bikes_available};
  }
  return events;
}

std::string ChangeDetector::SaveState() const {
  nlohmann::json stations = nlohmann::json::object();
  for (const auto& [id, last] : last_) stations[id] = {{"last_reported", last.reported}, {"bikes", last.bikes}};
  return nlohmann::json{{"system", system_}, {"stations", std::move(stations)}}.dump();
}

absl::StatusOr<ChangeDetector> ChangeDetector::LoadState(std::string system, std::string_view json) {
  const nlohmann::json state = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object() || !state.contains("stations") || !state["stations"].is_object()) {
    return absl::InvalidArgumentError("not a saved GBFS state (no stations)");
  }
  const std::string saved_system = state.value("system", "");
  if (saved_system != system) {
    return absl::InvalidArgumentError(fmt::format(
        "the state is of system '{}', not '{}': use its --system, or another --state file", saved_system, system));
  }
  ChangeDetector detector(std::move(system));
  for (const auto& [id, last] : state["stations"].items()) {
    if (!last.is_object() || !last.contains("last_reported") || !last["last_reported"].is_number_integer() ||
        !last.contains("bikes") || !last["bikes"].is_number_integer()) {
      return absl::InvalidArgumentError(fmt::format("saved GBFS state: station '{}' is malformed", id));
    }
    detector.last_[id] = {last["last_reported"].get<TimestampMicros>(), last["bikes"].get<std::int64_t>()};
  }
  return detector;
}

}  // namespace bikestream::gbfs
