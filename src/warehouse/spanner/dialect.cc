// GoogleSQL on Spanner, for the queries the SQL engines share (warehouse/sql/).
#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/google_sql.h"

namespace bikestream::spanner {

std::pair<std::string, Value> InstantParameter(int n, TimestampMicros instant) {
  return {GoogleSqlParameterName(n), Timestamp(instant)};
}

std::string Quoted(std::string_view name) { return GoogleSqlQuoted(name); }

const SqlDialect& Dialect() {
  static const SqlDialect dialect = [] {
    SqlDialect google_sql = GoogleSqlDialect();
    // The emulator refuses analytic functions.
    google_sql.kth_largest = SqlDialect::KthLargest::kCountAbove;
    return google_sql;
  }();
  return dialect;
}

}  // namespace bikestream::spanner
