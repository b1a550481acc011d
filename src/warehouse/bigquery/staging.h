// The two halves of a BigQuery commit (docs/adr/0007): a batch staged by a load job into a
// table of its own (free, and no transaction), and a merge of every staged table into
// raw_events and dead_letter in one transaction, whose result says which events of each batch
// were new. merge_committer.h decides who merges and when.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "warehouse/bigquery/client.h"
#include "warehouse/warehouse.h"

namespace bikestream::bigquery {

// Staged tables are named this, then the batch's id, its events, its dead letters and its
// events' first and last day (YYYYMMDD, "none" without events): the merge reads raw_events in
// those days only and each staged table only for what it holds, and whoever decides when to
// merge sees how much waits, all without a query.
inline constexpr char kStagePrefix[] = "_bikestream_stage_";

// Staged tables one merge takes at most, a random choice when more wait (none waits on the
// listing's order): BigQuery refuses a query of over 1,000 tables or 1 MB of text, and a merge
// names each table a few times.
inline constexpr std::size_t kMaxTablesPerMerge = 500;

struct StagedTable {
  std::string name;
  std::string batch;  // Its batch's id: hex digits.
  std::size_t events = 0;
  std::size_t letters = 0;
  // [first day's start, last day's end] of its events; nullopt without events.
  std::optional<std::pair<TimestampMicros, TimestampMicros>> days;
  TimestampMicros created = 0;  // BigQuery's creationTime, from a listing; 0 from a name alone.
};

// A staged table as its name tells; nullopt for a name that is not one.
std::optional<StagedTable> ParseStagedTable(std::string_view name);

// A new batch id: 32 random hex digits.
std::string NewBatchId();

// Stages `batch` under `batch_id` (from NewBatchId) into its own table of the client's default
// dataset, by one load job. Events and dead letters keep their positions in the batch. Safe to
// retry with the same id.
absl::StatusOr<StagedTable> StageBatch(Client& client, const Batch& batch,
                                       const std::string& batch_id);

// Every staged table of the client's default dataset (tables.list, free).
absl::StatusOr<std::vector<StagedTable>> ListStaged(Client& client);

// A merge's job, and whether this call ran it (else another client had inserted its id).
struct MergeAttempt {
  FinishedJob job;
  bool ran_here = false;
};

// Which staged tables a merge takes.
struct MergeChoice {
  // Those the last merge took and its worker has not dropped yet: dropped, not merged twice.
  std::set<std::string> merged_already;
  // Those created before this are nobody's (their workers gave up or died, and their messages
  // come again): dropped, not merged, so that a table that cannot merge stops failing merges.
  TimestampMicros abandoned_before = 0;
  // This table alone, when set: after a merge of every table failed, a worker merges its own,
  // so that a table that cannot merge holds back only its own batch.
  std::optional<std::string> only;
  std::size_t max_tables = kMaxTablesPerMerge;
};

// Runs one merge of the staged tables `choice` takes (nullopt when none) as the job `job_id`,
// once (Client::RunQueryJobOnce: when another client inserted that id first, its job is the
// answer): each event once by event_id (its first copy, not stored yet in the staged days), each
// dead letter once by (source, message_id), the writer row's count of merges up by one. A merge
// this call ran drops the tables it merged, as far as it can (a table left is the next merge's
// to leave out). The job's result is (batch, pos) of each event stored; StoredPositions reads a
// batch's.
absl::StatusOr<std::optional<MergeAttempt>> MergeStaged(Client& client, const TableNames& tables,
                                                        const std::string& job_id,
                                                        const MergeChoice& choice = {});

// The staged tables a merge's statement names.
std::set<std::string> TablesMergedBy(std::string_view merge_sql);

// The positions of `batch_id`'s events a merge's result says it stored, in order.
std::vector<std::size_t> StoredPositions(const Rows& merge_result, const std::string& batch_id);

}  // namespace bikestream::bigquery
