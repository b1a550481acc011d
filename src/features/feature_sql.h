// The feature computation as one set-based SQL query, for warehouses that speak SQL. Each
// dialect is one function here; the query takes the as_of instant as parameter 1 (`?1`, INTEGER
// microseconds UTC, in SQLite; `$1`, TIMESTAMPTZ, in PostgreSQL) and returns
// (station_id, feature_name, window_len, value). Both dialects compute every value with the same
// arithmetic, so they return identical rows on the same events.
#pragma once

#include <string>
#include <vector>

#include "features/feature_spec.h"

namespace bikestream {

// `raw_events` is the quoted name of the raw events table.
std::string SqliteFeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw_events);
std::string PostgresFeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw_events);

// k = ceil(share × stations), computed as the SQL does, for engines outside SQL (streaming).
// A small tolerance keeps 0.1 × 30 at 3, not 4 (0.1 × 30 is 3.0000000000000004 in binary).
std::size_t TopShareRank(double share, std::size_t stations);

}  // namespace bikestream
