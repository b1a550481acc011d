// GoogleSQL on Spanner, for the queries the SQL engines share (warehouse/sql/).
#include <fmt/format.h>

#include "warehouse/spanner/spanner_backend.h"

namespace bikestream::spanner {
namespace {

std::string ParameterName(int n) { return fmt::format("p{}", n); }

std::string Backquoted(std::string_view name) { return fmt::format("`{}`", name); }

}  // namespace

std::pair<std::string, Value> InstantParameter(int n, TimestampMicros instant) {
  return {ParameterName(n), Timestamp(instant)};
}

// Parameters are named (@p1, @p2, ...); instants are TIMESTAMPs.
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
      .quote = Backquoted,
      .real = "FLOAT64",
      .text_order = "",  // STRING sorts by its UTF-8 bytes.
      .upsert = SqlDialect::Upsert::kDeleteThenInsert,
      .latest_tick = SqlDialect::LatestTick::kCorrelated,
      // The emulator refuses analytic functions.
      .kth_largest = SqlDialect::KthLargest::kCountAbove,
  };
  return dialect;
}

}  // namespace bikestream::spanner
