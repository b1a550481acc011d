#include "warehouse/sql/google_sql.h"

#include <fmt/format.h>

namespace bikestream {

std::string GoogleSqlParameterName(int n) { return fmt::format("p{}", n); }

std::string GoogleSqlQuoted(std::string_view name) { return fmt::format("`{}`", name); }

SqlDialect GoogleSqlDialect() {
  return SqlDialect{
      .instant = [](int n) { return "@" + GoogleSqlParameterName(n); },
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
      .quote = GoogleSqlQuoted,
      .real = "FLOAT64",
      .text_order = "",  // STRING sorts by code point, as UTF-8's bytes do.
      .upsert = SqlDialect::Upsert::kDeleteThenInsert,
  };
}

}  // namespace bikestream
