// PostgreSQL's SQL dialect, for the queries the SQL engines share (warehouse/sql/).
#include <fmt/format.h>

#include "warehouse/postgres/postgres_backend.h"
#include "warehouse/sql/sql_text.h"

namespace bikestream::postgres {

// Instants are timestamptz, sent as RFC 3339 text and read back through Micros().
const SqlDialect& Dialect() {
  static const SqlDialect dialect{
      .instant = Instant,
      .micros = Micros,
      .minus =
          [](std::string_view instant, std::int64_t micros) {
            return fmt::format("{} - interval '{} microseconds'", instant, micros);
          },
      .bucket_start =
          [](std::string_view micros, std::int64_t bucket) {
            return fmt::format("{0} - (({0} % {1}) + {1}) % {1}", micros, bucket);
          },
      // PostgreSQL refuses a negative OFFSET (no stations at all).
      .rank_offset =
          [](const std::string& x) {
            return fmt::format("greatest(CAST(ceil({}) AS bigint) - 1, 0)", x);
          },
      .quote = QuoteIdentifier,
      .real = "double precision",
      // Byte order, as SQLite sorts, whatever the database's locale.
      .text_order = " COLLATE \"C\"",
      .upsert = SqlDialect::Upsert::kOnConflict,
      .latest_tick = SqlDialect::LatestTick::kCorrelated,
  };
  return dialect;
}

}  // namespace bikestream::postgres
