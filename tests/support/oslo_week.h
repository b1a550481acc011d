// The week of Oslo City Bike's real station_status feed in tests/data/gbfs, and the changes it
// holds as the GBFS issue defines them, computed with another JSON library than the product's.
#pragma once

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "event/event.h"
#include "event/station.h"
#include "gbfs/snapshot_file.h"

namespace bikestream::testing_support {

inline const std::string kOsloWeek =
    std::string(BIKESTREAM_TEST_DATA) + "/data/gbfs/oslo-station-status-2024-10-07.jsonl.gz";
// The same system's station_information document (two years older than the week).
inline const std::string kOsloStationInformation =
    std::string(BIKESTREAM_TEST_DATA) + "/data/gbfs/oslo-station-information-2022-10-23.json";

// Its stations in document order, read with another JSON library than the product's.
inline std::vector<Station> OsloStations() {
  std::ifstream in(kOsloStationInformation);
  const nlohmann::json document = nlohmann::json::parse(in);
  const TimestampMicros updated = document["last_updated"].get<std::int64_t>() * kMicrosPerSecond;
  std::vector<Station> stations;
  for (const nlohmann::json& s : document["data"]["stations"]) {
    stations.push_back(Station{.station_id = s["station_id"],
                               .name = s["name"],
                               .lat = s["lat"],
                               .lon = s["lon"],
                               .capacity = s["capacity"].get<std::int64_t>(),
                               .last_updated = updated});
  }
  return stations;
}

// The snapshots, one JSON document each, in order.
inline std::vector<std::string> OsloSnapshots() {
  std::vector<std::string> lines;
  const absl::Status read = gbfs::ForEachSnapshotLine(kOsloWeek, [&](const Line& line) {
    lines.emplace_back(line.text);
    return true;
  });
  if (!read.ok()) std::abort();
  return lines;
}

// The first `count` snapshots: the tests that run the week several times (each under the
// sanitizers too) run part of it.
inline std::vector<std::string> FirstOsloSnapshots(std::size_t count) {
  auto snapshots = OsloSnapshots();
  snapshots.resize(count);
  return snapshots;
}

// Writes `snapshots` to `path` as a file of recorded snapshots (plain JSON lines).
inline void WriteSnapshotFile(const std::vector<std::string>& snapshots, const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& snapshot : snapshots) out << snapshot << '\n';
}

using Change = std::tuple<std::string, std::string, TimestampMicros, Kind, std::int32_t>;

inline Change ChangeOf(const Event& e) { return {e.event_id, e.station_id, e.ts, e.kind, e.delta}; }

// Per station, between two reports with different last_reported, a fall of bikes available is
// a pickup and a rise a drop-off; a station's first report is its baseline, and a station
// report without its id, time or count is passed over.
inline std::vector<Change> ExpectedChanges(const std::vector<std::string>& snapshots,
                                           const std::string& system) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> last;  // station → (reported, bikes)
  std::vector<Change> changes;
  for (const std::string& line : snapshots) {
    const nlohmann::json snapshot =
        nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (snapshot.is_discarded()) continue;
    for (const auto& station : snapshot["data"]["stations"]) {
      if (!station.contains("station_id") || !station.contains("last_reported") ||
          !station.contains("num_bikes_available")) {
        continue;
      }
      const std::string id = station["station_id"];
      const std::int64_t reported = station["last_reported"],
                         bikes = station["num_bikes_available"];
      auto found = last.find(id);
      if (found != last.end() && reported > found->second.first) {
        const std::int64_t change = bikes - found->second.second;
        if (change != 0) {
          changes.emplace_back(
              fmt::format("{}:{}:{}", system, id, reported), id, reported * kMicrosPerSecond,
              change < 0 ? Kind::kPickup : Kind::kDropoff, std::int32_t(std::abs(change)));
        }
      }
      if (found == last.end() || reported > found->second.first) last[id] = {reported, bikes};
    }
  }
  return changes;
}

}  // namespace bikestream::testing_support
