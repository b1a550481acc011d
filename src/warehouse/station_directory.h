// StationDirectory: the stations table, where each station is (gbfs, the console).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "event/station.h"

namespace bikestream {

// The stations table: one row per station_id.
class StationDirectory {
 public:
  virtual ~StationDirectory() = default;

  // In one transaction, inserts each station or replaces its row, unless the row stored is
  // from a later description (last_updated): so re-sending a description changes nothing, and
  // an old one never undoes a newer. The station ids must be distinct.
  virtual absl::Status UpsertStations(const std::vector<Station>& stations) = 0;

  // Every station, in station_id order.
  virtual absl::StatusOr<std::vector<Station>> ListStations() = 0;
};

}  // namespace bikestream
