// Counting queries every SQL engine runs the same way, written against its `SqlDialect`.
#pragma once

#include <cstdint>
#include <string>

#include "warehouse/sql/sql_dialect.h"

namespace bikestream {

// Per station and kind, the events at or before the instant of parameter 1: (station_id, kind,
// n, total, low, high, first_ts): their count, the sum, least and greatest delta, and the first
// ts in microseconds. `raw_events` is the quoted table name.
std::string EventTotalsQuery(const std::string& raw_events, const SqlDialect& dialect);

// Dead letters first seen in [parameter 1, parameter 2), counted per reason and `bucket` of
// time: (reason, bucket, n), the bucket's start in microseconds, ordered by bucket then reason.
std::string DeadLetterCountsQuery(const std::string& dead_letter, std::int64_t bucket,
                                  const SqlDialect& dialect);

}  // namespace bikestream
