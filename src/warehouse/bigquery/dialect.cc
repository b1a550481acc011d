// GoogleSQL, BigQuery's dialect, for the queries the SQL engines share (warehouse/sql/).
#include <fmt/format.h>

#include "warehouse/bigquery/bigquery_backend.h"

namespace bikestream::bigquery {

std::string ParameterName(int n) { return fmt::format("p{}", n); }

nlohmann::json InstantParameter(int n, TimestampMicros instant) {
  return ScalarParameter(ParameterName(n), "TIMESTAMP", TimestampText(instant));
}

// Parameters are named (@p1, @p2, ...: ParameterName); instants are TIMESTAMPs.
const SqlDialect& Dialect() {
  static const SqlDialect dialect{
      .instant = [](int n) { return "@" + ParameterName(n); },
      .micros = [](std::string_view instant) { return fmt::format("UNIX_MICROS({})", instant); },
      .minus =
          [](std::string_view instant, std::int64_t micros) {
            return fmt::format("TIMESTAMP_SUB({}, INTERVAL {} MICROSECOND)", instant, micros);
          },
      // MOD keeps the dividend's sign: rounded down before 1970 too.
      .bucket_start =
          [](std::string_view micros, std::int64_t bucket) {
            return fmt::format("{0} - MOD(MOD({0}, {1}) + {1}, {1})", micros, bucket);
          },
      .rank_offset =
          [](const std::string& x) {
            return fmt::format("GREATEST(CAST(CEIL({}) AS INT64) - 1, 0)", x);
          },
      .quote = Quoted,
      .real = "FLOAT64",
      .text_order = "",  // STRING sorts by code point, as UTF-8's bytes do.
      // A table a transaction mutates cannot be mutated by another (docs/adr/0007): one
      // script, no ON CONFLICT in GoogleSQL.
      .upsert = SqlDialect::Upsert::kDeleteThenInsert,
      // BigQuery refuses a correlated subquery on another table it cannot turn into a join.
      .latest_tick = SqlDialect::LatestTick::kGroupedJoin,
  };
  return dialect;
}

}  // namespace bikestream::bigquery
