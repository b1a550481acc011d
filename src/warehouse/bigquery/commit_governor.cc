#include "warehouse/bigquery/commit_governor.h"

namespace bikestream::bigquery {

bool ShouldMerge(const CommitGovernorOptions& options, TimestampMicros now, const Waiting& waiting,
                 const std::optional<LastMerge>& last) {
  if (!last) return true;  // Nothing known of the bill yet: merge, and learn it.
  const auto tables = static_cast<DurationMicros>(last->tables);
  if (now - last->seen_at + last->duration < tables * options.load_job_spacing) return false;
  const DurationMicros waited = now - waiting.staged_at;
  if (waited >= options.max_commit_delay) return true;
  const bool pays =
      static_cast<std::int64_t>(waiting.rows) * options.budget_per_row >= last->bytes_billed;
  return pays && (waiting.tables >= last->tables || waited >= options.gather);
}

}  // namespace bikestream::bigquery
