// Training sets as SQL: station_features (one row per station, feature and tick) pivoted into
// one row per station and tick with a column per feature, and the point-in-time join of entity
// rows against it. Written once for every SQL engine against its `SqlDialect`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "warehouse/query_result.h"
#include "warehouse/sql/sql_dialect.h"

namespace bikestream {

// (station_id, as_of, one column per feature) at the instant of parameter 1, or with `range`
// at every as_of from parameter 1 to parameter 2 inclusive; ordered by as_of, then station.
// `features_table` is the quoted name of station_features. Feature names are [a-z0-9_],
// checked when their file is parsed.
std::string TrainingSetQuery(const std::vector<std::string>& features, bool range,
                             const std::string& features_table, const SqlDialect& dialect);

// Each entity row of `labels` — a table of (entity_row, station_id, ts, label0, label1, ...,
// one per of `label_count`) — with the features of its station at the latest tick at or before
// its ts (point in time: never a value computed after ts), NULL where there is none:
// (station_id, ts, as_of, label0, ..., one column per feature), in entity_row order.
std::string PointInTimeJoinQuery(const std::vector<std::string>& features, std::string_view labels,
                                 std::size_t label_count, const std::string& features_table,
                                 const SqlDialect& dialect);

// Gives a point-in-time join's columns label0, label1, ... the names `labels` has for them
// (which need not be names SQL takes).
void NameLabelColumns(const std::vector<std::string>& labels, QueryResult& result);

}  // namespace bikestream
