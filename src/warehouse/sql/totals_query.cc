#include "warehouse/sql/totals_query.h"

#include <fmt/format.h>

namespace bikestream {

std::string EventTotalsQuery(const std::string& raw_events, const SqlDialect& d) {
  return fmt::format(
      "SELECT station_id, kind, count(*) AS n, sum(delta) AS total, min(delta) AS low, "
      "max(delta) AS high, {} AS first_ts FROM {} WHERE ts_iso <= {} GROUP BY station_id, kind",
      d.micros("min(ts_iso)"), raw_events, d.instant(1));
}

std::string DeadLetterCountsQuery(const std::string& dead_letter, std::int64_t bucket,
                                  const SqlDialect& d) {
  return fmt::format(
      "SELECT reason, {} AS bucket, count(*) AS n FROM {} WHERE first_seen >= {} AND "
      "first_seen < {} GROUP BY bucket, reason ORDER BY bucket, reason{}",
      d.bucket_start(d.micros("first_seen"), bucket), dead_letter, d.instant(1), d.instant(2),
      d.text_order);
}

}  // namespace bikestream
