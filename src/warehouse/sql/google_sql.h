// GoogleSQL, the dialect of BigQuery and Spanner: what the two share, which each adjusts where
// it differs (bigquery/dialect.cc, spanner/dialect.cc).
#pragma once

#include <string>
#include <string_view>

#include "warehouse/sql/sql_dialect.h"

namespace bikestream {

// Parameter n's name: p<n>, written @p<n> in the SQL.
std::string GoogleSqlParameterName(int n);
// A table or column name quoted: `name`.
std::string GoogleSqlQuoted(std::string_view name);
// Parameters are named (@p1, @p2, ...), instants are TIMESTAMPs, STRING sorts by its UTF-8
// bytes, and a newer row replaces a stored one by delete-then-insert (GoogleSQL has no ON
// CONFLICT).
SqlDialect GoogleSqlDialect();

}  // namespace bikestream
