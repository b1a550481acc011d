#include "warehouse/bigquery/commit_governor.h"

namespace bikestream::bigquery {

bool ShouldMerge(const CommitGovernorOptions& options, TimestampMicros now,
                 TimestampMicros staged_at, std::size_t rows_waiting,
                 const std::optional<LastMerge>& last) {
  if (!last) return true;  // Nothing known of the bill yet: merge, and learn it.
  const auto tables = static_cast<DurationMicros>(last->tables);
  if (now - last->seen_at < tables * options.load_job_spacing) return false;
  if (now - staged_at >= options.max_commit_delay) return true;
  return static_cast<std::int64_t>(rows_waiting) * options.budget_per_row >= last->bytes_billed;
}

}  // namespace bikestream::bigquery
