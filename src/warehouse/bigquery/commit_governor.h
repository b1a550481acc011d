// When a BigQuery merge runs (docs/adr/0007's cost governor). A merge is billed for the tables
// it reads, whatever it carries (tens of MB at least), so it waits until the rows staged pay
// for it at `budget_per_row`, or until a batch has waited `max_commit_delay`: seconds while
// rows pour in, up to the delay when they trickle. When they pay, it still waits a moment for
// as many batches as the last merge took, so that busy workers share merges rather than queue
// for them. And merges keep the project's load jobs (one per staged batch) under BigQuery's
// 100,000 a day.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/time.h"

namespace bikestream::bigquery {

struct CommitGovernorOptions {
  // The longest a batch waits for its merge, unless the load-job spacing below holds it
  // longer (seconds at most). An event that arrives while its worker waits
  // waits for the next batch's merge too: up to about twice this. Default: 90 s.
  DurationMicros max_commit_delay = 90 * kMicrosPerSecond;
  // The bill a staged row may bring: a merge runs once rows * this >= the last merge's bill.
  // Default: 100 KiB (at $6.25 per TiB, $0.0000006 a row).
  std::int64_t budget_per_row = 100 * 1024;
  // After a merge of n staged tables (n load jobs) starts, the next starts n * this later at
  // the earliest: BigQuery allows a project 100,000 load jobs a day, one per 0.864 s. Default:
  // that.
  DurationMicros load_job_spacing = 864 * kMicrosPerMilli;
  // How long a batch that pays for a merge waits for the workers of the last merge to stage
  // theirs. Default: 1 s.
  DurationMicros gather = kMicrosPerSecond;
};

// The last merge as a worker saw it.
struct LastMerge {
  TimestampMicros seen_at = 0;  // When this worker first saw it done.
  DurationMicros duration = 0;  // How long it ran, by BigQuery's clock.
  std::int64_t bytes_billed = 0;
  std::size_t tables = 0;
};

// What is staged, as a waiting worker sees it.
struct Waiting {
  TimestampMicros staged_at = 0;  // The worker's own batch's.
  std::size_t tables = 0;         // Staged, in all.
  std::size_t rows = 0;           // Events and dead letters staged, in all.
};

// Whether the worker merges now.
bool ShouldMerge(const CommitGovernorOptions& options, TimestampMicros now, const Waiting& waiting,
                 const std::optional<LastMerge>& last);

}  // namespace bikestream::bigquery
