// Issue 36's write path for BigQuery, in the pieces docs/adr/0007's revision names: a batch
// staged by a load job into a table of its own (free, and no transaction), and one merge of
// every staged batch into raw_events and dead_letter in one transaction, whose result says
// which events of each batch were new. The warehouse's Commit does not use them yet.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "warehouse/bigquery/client.h"
#include "warehouse/warehouse.h"

namespace bikestream::bigquery {

// Staged tables are named this, then the batch's id and its events' first and last day
// (YYYYMMDD, "none" without events): the merge reads raw_events in those days only.
inline constexpr char kStagePrefix[] = "_bikestream_stage_";

// Stages `batch` under `batch_id` (letters, digits, '_'; unique per commit) into its own table
// of the client's default dataset, by one load job; returns the table. Events and dead letters
// keep their positions in the batch. Safe to retry with the same id.
absl::StatusOr<std::string> StageBatch(Client& client, const Batch& batch,
                                       const std::string& batch_id);

struct MergeResult {
  std::string job_id;  // "" when nothing was staged.
  std::vector<std::string> merged_tables;
  // Batch id → the positions of its events stored by this merge (the others were stored
  // already, or are a later copy of an id in the merge).
  std::map<std::string, std::vector<std::size_t>> newly_stored;
  std::int64_t bytes_billed = 0;
};

// Merges every staged table into `tables`' raw_events and dead_letter in one transaction,
// each event once by event_id and each letter once by (source, message_id), then drops the
// staged tables. A table staged while it ran waits for the next merge; one merged but not
// dropped (a crash between) merges again as duplicates only.
absl::StatusOr<MergeResult> MergeStaged(Client& client, const TableNames& tables);

}  // namespace bikestream::bigquery
