// A BigQuery commit, as docs/adr/0007 has it since issue 36: the worker stages its batch
// (staging.h), then waits for the merge that takes it, running that merge itself when the
// governor says it is time (commit_governor.h).
//
// Merges are numbered: the writer row counts them, and merge n runs as the query job
// bikestream_merge_<dataset>_<writer table's creation>_<n>_<attempt>. Every worker that wants
// merge n inserts that id; BigQuery lets one insert of an id succeed, and the others wait for
// its job: one committer per merge, elected by the job id, and none to take over when one
// dies. Merge n+1 is inserted only once merge n is seen done, so merges never overlap and no
// merge is cancelled for a concurrent one. An attempt that failed is followed by the next.
// A batch's answer is in the first merge after its staging whose statement names its table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "warehouse/bigquery/client.h"
#include "warehouse/bigquery/commit_governor.h"
#include "warehouse/bigquery/staging.h"
#include "warehouse/warehouse.h"

namespace bikestream::bigquery {

struct MergeCommitterOptions {
  CommitGovernorOptions governor;
  // How often a waiting worker looks at the writer row and the staged tables (both free).
  // Default: 500 ms.
  DurationMicros poll = 500 * kMicrosPerMilli;
  // A batch not merged this long after its max_commit_delay is given up (its messages come
  // again; its staged table is dropped, or merges as duplicates). A staged table older than
  // twice both together is nobody's: merges drop it. Default: 5 minutes.
  DurationMicros give_up_after = 300 * kMicrosPerSecond;
};

// What a merge said of one batch.
struct MergedBatch {
  std::string merge_job;
  std::vector<std::size_t> stored_positions;  // Of its events, those the merge stored.
  // The merge's figures over the tables it merged: this batch's share.
  std::int64_t bytes_processed_share = 0;
  std::int64_t bytes_billed_share = 0;
};

// One worker's commits. Not thread-safe: one per warehouse, used from one thread at a time.
class MergeCommitter {
 public:
  MergeCommitter(Client& client, TableNames tables, std::string dataset,
                 MergeCommitterOptions options, Clock& clock);

  // Stages `batch` and returns once a merge has taken it.
  absl::StatusOr<MergedBatch> Commit(const Batch& batch);

 private:
  // A merge that succeeded, as its job says.
  struct Merge {
    std::string job_id;
    std::set<std::string> tables;
    std::int64_t bytes_processed = 0;
    std::int64_t bytes_billed = 0;
  };

  // Waits for the first merge after `merges_before` that names `staged`'s table, running the
  // merges the governor calls for.
  absl::StatusOr<MergedBatch> AwaitMerge(const StagedTable& staged, std::int64_t merges_before);
  absl::StatusOr<std::int64_t> MergesSoFar();
  absl::StatusOr<std::string> MergeJobId(std::int64_t number, int attempt);
  // Merge `number` once done: its attempt that succeeded; nullopt when none is found (a count
  // from the design before merges, or one not readable yet).
  absl::StatusOr<std::optional<Merge>> MergeNumbered(std::int64_t number);
  // Runs merge `number`, or waits for the worker that runs it; whether it is done (false:
  // nothing was staged). After an attempt of its own failed, merges `own_table` alone.
  absl::StatusOr<bool> RunMerge(std::int64_t number, const std::string& own_table);
  absl::StatusOr<MergedBatch> AnswerOf(const Merge& merge, const std::string& batch_id);

  Client& client_;
  const TableNames tables_;
  const std::string dataset_;
  const MergeCommitterOptions options_;
  Clock& clock_;
  std::string incarnation_;                              // The writer table's, once read.
  std::map<std::int64_t, std::optional<Merge>> merges_;  // Those seen, the latest few.
  std::optional<LastMerge> last_;
};

}  // namespace bikestream::bigquery
