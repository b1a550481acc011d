// Reading PostgreSQL results (text format) into bikestream's types. Private to the PostgreSQL
// backend.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "event/event.h"
#include "warehouse/roles.h"

namespace bikestream::postgres {

std::string_view Text(const PGresult* result, int row, int column);
std::int64_t Integer(const PGresult* result, int row, int column);
double Real(const PGresult* result, int row, int column);
Kind KindOf(std::string_view name);

// The rows of any statement, for `query`: timestamps as RFC 3339, bytea as text when it is.
QueryResult ResultOf(const PGresult* result);

// Rows of (station_id, feature_name, window_len, value), all at `as_of`.
std::vector<FeatureRow> FeatureRowsOf(const PGresult* result, TimestampMicros as_of);

}  // namespace bikestream::postgres
