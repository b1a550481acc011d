// The stations table's upsert, as every SQL engine runs it: a station's newer description
// replaces its stored one, an older one never does (feeds may replay), new stations are added.
#pragma once

#include <string>
#include <string_view>

#include "warehouse/sql/sql_dialect.h"

namespace bikestream {

// `rows` is a VALUES list or a SELECT of (station_id, name, lat, lon, capacity, last_updated),
// in that order and with those names for a SELECT; `stations` the quoted table name. With
// Upsert::kDeleteThenInsert, two statements ("...; ...") the caller runs in one transaction.
std::string StationsUpsertQuery(const std::string& stations, std::string_view rows,
                                const SqlDialect& dialect);

}  // namespace bikestream
