// The console's activity reads (ActivityReader) as queries over raw_events, for the engines
// that answer them so (BigQuery, Spanner), written against their `SqlDialect`. Both read the
// events of [parameter 1, parameter 2); `raw_events` is the quoted table name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "warehouse/sql/sql_dialect.h"

namespace bikestream {

// The events of the station `station` (a parameter, e.g. "@station") per `bucket` of time:
// (bucket, pickups, pickup_bikes, dropoffs, dropoff_bikes), the bucket's start in
// microseconds, in order.
std::string StationBucketsQuery(const std::string& raw_events, std::string_view station,
                                std::int64_t bucket, const SqlDialect& dialect);

// The `limit` stations with the most events: (station_id, pickups, pickup_bikes, dropoffs,
// dropoff_bikes), the busiest first, then by station_id.
std::string BusiestStationsQuery(const std::string& raw_events, std::int64_t limit,
                                 const SqlDialect& dialect);

}  // namespace bikestream
