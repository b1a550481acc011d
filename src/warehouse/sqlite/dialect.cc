// SQLite's SQL dialect, for the queries the SQL engines share (warehouse/sql/).
#include <fmt/format.h>

#include "warehouse/sql/sql_text.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {

// Instants are stored as INTEGER microseconds, and bound as them.
const SqlDialect& Dialect() {
  static const SqlDialect dialect{
      .instant = [](int n) { return fmt::format("?{}", n); },
      .micros = [](std::string_view instant) { return std::string(instant); },
      .minus = [](std::string_view instant,
                  std::int64_t micros) { return fmt::format("{} - {}", instant, micros); },
      .bucket_start =
          [](std::string_view micros, std::int64_t bucket) {
            return fmt::format("{0} - (({0} % {1}) + {1}) % {1}", micros, bucket);
          },
      // SQLite has no ceil() before 3.35.
      .rank_offset =
          [](const std::string& x) {
            return fmt::format("max(CAST({0} AS INTEGER) + ({0} > CAST({0} AS INTEGER)) - 1, 0)",
                               x);
          },
      .quote = QuoteIdentifier,
      .real = "REAL",
      .text_order = "",  // BINARY collation: bytes already.
      .upsert = SqlDialect::Upsert::kOnConflict,
      .latest_tick = SqlDialect::LatestTick::kCorrelated,
  };
  return dialect;
}

}  // namespace bikestream::sqlite
