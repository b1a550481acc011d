// The feature computation as one set-based SQL query, for warehouses that speak SQL. The
// query's shape lives here; what differs between engines is a `SqlDialect`, which each backend
// defines in its own folder (e.g. sqlite/dialect.cc). The query takes the as_of instant as
// its parameter 1 and returns (station_id, feature_name, window_len, value). Every value is
// computed with the same arithmetic whatever the dialect, so engines return identical rows on
// the same events.
#pragma once

#include <string>
#include <vector>

#include "features/feature_spec.h"
#include "warehouse/sql/sql_dialect.h"

namespace bikestream {

// `raw_events` is the quoted name of the raw events table.
std::string FeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw_events,
                         const SqlDialect& dialect);

}  // namespace bikestream
