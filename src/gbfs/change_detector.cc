#include "gbfs/change_detector.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/redact.h"

namespace bikestream::gbfs {

std::string ChangeEventId(std::string_view system, std::string_view station_id,
                          TimestampMicros reported) {
  const TimestampMicros seconds = reported / kMicrosPerSecond;
  const TimestampMicros fraction = reported % kMicrosPerSecond;
  if (fraction == 0) return fmt::format("{}:{}:{}", system, station_id, seconds);
  return fmt::format("{}:{}:{}.{:06}", system, station_id, seconds, fraction);
}

std::vector<Event> ChangeDetector::Apply(const StationStatus& status) {
  std::vector<Event> events;
  for (const StationReport& report : status.stations) {
    auto [it, first] =
        last_.try_emplace(report.station_id, Last{report.last_reported, report.bikes_available});
    if (first) continue;  // The baseline.
    Last& last = it->second;
    if (report.last_reported <= last.reported) continue;
    // Both counts are within [0, kMaxBikesAtStation]: the change fits an Event's delta.
    const std::int64_t change = report.bikes_available - last.bikes;
    if (change != 0) {
      events.push_back(
          Event{.event_id = ChangeEventId(system_, report.station_id, report.last_reported),
                .station_id = report.station_id,
                .ts = report.last_reported,
                .kind = change < 0 ? Kind::kPickup : Kind::kDropoff,
                .delta = static_cast<std::int32_t>(change < 0 ? -change : change)});
    }
    last = {report.last_reported, report.bikes_available};
  }
  return events;
}

namespace {

nlohmann::json ToState(const Event& event) {
  return {{"event_id", event.event_id},
          {"station_id", event.station_id},
          {"ts", event.ts},
          {"kind", KindName(event.kind)},
          {"delta", event.delta}};
}

std::optional<Event> FromState(const nlohmann::json& saved) {
  if (!saved.is_object()) return std::nullopt;
  const auto text = [&](const char* key) {
    return saved.contains(key) && saved[key].is_string() ? saved[key].get<std::string>() : "";
  };
  const auto number = [&](const char* key) {
    return saved.contains(key) && saved[key].is_number_integer()
               ? std::optional(saved[key].get<std::int64_t>())
               : std::nullopt;
  };
  const std::string kind = text("kind");
  const auto ts = number("ts");
  const auto delta = number("delta");
  if (text("event_id").empty() || text("station_id").empty() || !ts || !delta || *delta < 1 ||
      *delta > INT32_MAX || (kind != "pickup" && kind != "dropoff")) {
    return std::nullopt;
  }
  return Event{.event_id = text("event_id"),
               .station_id = text("station_id"),
               .ts = *ts,
               .kind = kind == "pickup" ? Kind::kPickup : Kind::kDropoff,
               .delta = static_cast<std::int32_t>(*delta)};
}

}  // namespace

std::string ChangeDetector::SaveState(const std::vector<Event>& pending) const {
  nlohmann::json stations = nlohmann::json::object();
  for (const auto& [id, last] : last_)
    stations[id] = {{"last_reported", last.reported}, {"bikes", last.bikes}};
  nlohmann::json unsent = nlohmann::json::array();
  for (const Event& event : pending) unsent.push_back(ToState(event));
  return nlohmann::json{
      {"system", system_}, {"stations", std::move(stations)}, {"pending", std::move(unsent)}}
      .dump();
}

absl::StatusOr<ChangeDetector::Resumed> ChangeDetector::LoadState(std::string system,
                                                                  std::string_view json,
                                                                  TimestampMicros now) {
  const nlohmann::json state = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object() || !state.contains("stations") || !state["stations"].is_object()) {
    return absl::InvalidArgumentError("not a saved GBFS state (no stations)");
  }
  if (!state.contains("system") || !state["system"].is_string()) {
    return absl::InvalidArgumentError("not a saved GBFS state (no system)");
  }
  const std::string saved_system = state["system"].get<std::string>();
  if (saved_system != system) {
    return absl::FailedPreconditionError(fmt::format(
        "the state is of system '{}', not '{}': use its --system, or another --state file",
        saved_system, system));
  }
  Resumed resumed{ChangeDetector(std::move(system)), {}};
  for (const auto& [id, last] : state["stations"].items()) {
    if (!last.is_object() || !last.contains("last_reported") ||
        !last["last_reported"].is_number_integer() || !last.contains("bikes") ||
        !last["bikes"].is_number_integer()) {
      return absl::InvalidArgumentError(
          fmt::format("saved GBFS state: station '{}' is malformed", id));
    }
    const Last kept{last["last_reported"].get<TimestampMicros>(),
                    last["bikes"].get<std::int64_t>()};
    if (kept.reported > now + kMaxReportAhead || kept.bikes < 0 ||
        kept.bikes > kMaxBikesAtStation) {
      resumed.problems.push_back(
          fmt::format("station {}: its saved report ({} bikes at {}) cannot be a real one: it "
                      "starts again from its "
                      "next report",
                      RemoteText(id, 100), kept.bikes,
                      InTimestampRange(kept.reported) ? FormatRfc3339(kept.reported)
                                                      : std::to_string(kept.reported)));
      continue;
    }
    resumed.detector.last_[id] = kept;
  }
  for (const auto& saved : state.value("pending", nlohmann::json::array())) {
    auto event = FromState(saved);
    if (!event)
      return absl::InvalidArgumentError(
          fmt::format("saved GBFS state: a pending change is malformed: {}", saved.dump()));
    resumed.pending.push_back(std::move(*event));
  }
  return resumed;
}

}  // namespace bikestream::gbfs
