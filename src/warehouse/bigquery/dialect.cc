// GoogleSQL on BigQuery, for the queries the SQL engines share (warehouse/sql/).
#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/sql/google_sql.h"

namespace bikestream::bigquery {

nlohmann::json InstantParameter(int n, TimestampMicros instant) {
  return ScalarParameter(GoogleSqlParameterName(n), "TIMESTAMP", TimestampText(instant));
}

std::string Quoted(std::string_view name) { return GoogleSqlQuoted(name); }

const SqlDialect& Dialect() {
  static const SqlDialect dialect = [] {
    SqlDialect google_sql = GoogleSqlDialect();
    // BigQuery refuses a correlated subquery on another table it cannot turn into a join.
    google_sql.latest_tick = SqlDialect::LatestTick::kGroupedJoin;
    return google_sql;
  }();
  return dialect;
}

}  // namespace bikestream::bigquery
