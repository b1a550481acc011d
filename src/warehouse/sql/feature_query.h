// The feature computation as one set-based SQL query, for warehouses that speak SQL. The
// query's shape lives here; what differs between engines is a `SqlDialect`, which each backend
// defines in its own folder (e.g. sqlite/feature_sql.cc). The query takes the as_of instant as
// its one parameter and returns (station_id, feature_name, window_len, value). Every value is
// computed with the same arithmetic whatever the dialect, so engines return identical rows on
// the same events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "features/feature_spec.h"

namespace bikestream {

struct SqlDialect {
  std::string as_of;  // The as_of parameter: ?1, $1, @as_of.
  std::function<std::string(std::int64_t micros)> window_start;  // as_of minus a window.
  std::string real;                                              // The double-precision type.
  // ceil(x) − 1 as an integer, and never negative: the number of stations ranked above the k-th.
  std::function<std::string(const std::string& x)> rank_offset;
};

// `raw_events` is the quoted name of the raw events table.
std::string FeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw_events,
                         const SqlDialect& dialect);

}  // namespace bikestream
