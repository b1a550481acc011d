#include "warehouse/bigquery/merge_committer.h"

#include <fmt/format.h>

#include <algorithm>

#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/bigquery/staging.h"

namespace bikestream::bigquery {
namespace {

// Attempts of one merge number a worker runs before the failure is its commit's (each with the
// tables staged at its start). Attempts others ran and that failed are passed over.
constexpr int kMaxMergeAttempts = 5;
// Merges remembered, so that waiting workers read each job once.
constexpr std::size_t kMergesKept = 64;

}  // namespace

MergeCommitter::MergeCommitter(Client& client, TableNames tables, std::string dataset,
                               MergeCommitterOptions options, Clock& clock)
    : client_(client),
      tables_(std::move(tables)),
      dataset_(std::move(dataset)),
      options_(options),
      clock_(clock) {}

absl::StatusOr<MergedBatch> MergeCommitter::Commit(const Batch& batch) {
  // A merge that takes the batch lists the staged tables after the staging, so it commits
  // after it: its number is above the count read before the staging.
  auto before = MergesSoFar();
  if (!before.ok()) return before.status();
  const std::string batch_id = NewBatchId();
  auto staged = StageBatch(client_, batch, batch_id);
  if (!staged.ok()) return staged.status();
  auto merged = AwaitMerge(*staged, *before);
  // Failed: the batch comes again under a new id. Its table goes, so that a merge does not
  // credit the events to a batch nobody waits for (a table this leaves merges as duplicates).
  if (!merged.ok()) client_.DeleteTable(staged->name).IgnoreError();
  return merged;
}

absl::StatusOr<MergedBatch> MergeCommitter::AwaitMerge(const StagedTable& staged,
                                                       std::int64_t merges_before) {
  const TimestampMicros staged_at = clock_.Now();
  std::int64_t next = merges_before + 1;
  while (true) {
    auto count = MergesSoFar();
    if (!count.ok()) return count.status();
    for (; next <= *count; ++next) {
      auto merge = MergeNumbered(next);
      if (!merge.ok()) return merge.status();
      // Counted but not readable yet: never passed over, looked at again after a pause.
      if (!*merge) break;
      if ((*merge)->tables.contains(staged.name)) return AnswerOf(**merge, staged.batch);
    }
    const TimestampMicros now = clock_.Now();
    if (now - staged_at > options_.governor.max_commit_delay + options_.give_up_after) {
      return absl::DeadlineExceededError(fmt::format(
          "BigQuery: no merge took staged batch {} in {} s; its messages come again, and the "
          "staged table merges later as duplicates",
          staged.batch, (now - staged_at) / kMicrosPerSecond));
    }
    auto waiting = ListStaged(client_);
    if (!waiting.ok()) return waiting.status();
    Waiting staged_now{.staged_at = staged_at, .tables = waiting->size()};
    for (const StagedTable& table : *waiting) staged_now.rows += table.events + table.letters;
    if (next > *count && ShouldMerge(options_.governor, now, staged_now, last_)) {
      auto merged = RunMerge(*count + 1, staged.name);
      if (!merged.ok()) return merged.status();
      if (*merged) continue;  // Done: its answer is read at once.
    }
    clock_.SleepFor(options_.poll);
  }
}

absl::StatusOr<std::int64_t> MergeCommitter::MergesSoFar() {
  auto rows = client_.ReadTable(kWriterTable, {"commits"});
  if (!rows.ok()) return rows.status();
  std::int64_t count = 0;
  for (const auto& row : rows->rows) {
    if (!row.empty()) count = std::max(count, IntegerOf(row[0]));
  }
  return count;
}

absl::StatusOr<std::string> MergeCommitter::MergeJobId(std::int64_t number, int attempt) {
  // Job ids are the project's for months: a dataset made again after a drop must not meet the
  // jobs of the one before. Its writer table's creation time tells them apart.
  if (incarnation_.empty()) {
    auto writer = client_.GetTable(dataset_, kWriterTable);
    if (!writer.ok()) return writer.status();
    if (!writer->has_value()) {
      return absl::FailedPreconditionError(fmt::format(
          "BigQuery dataset {} has no table {}: run `bikestream setup`", dataset_, kWriterTable));
    }
    const std::string created = TextOf(**writer, "creationTime");
    incarnation_ = fmt::format("{}_{}", dataset_, created.empty() ? "0" : created);
  }
  return fmt::format("bikestream_merge_{}_{}_{}", incarnation_, number, attempt);
}

absl::StatusOr<std::optional<MergeCommitter::Merge>> MergeCommitter::MergeNumbered(
    std::int64_t number) {
  if (auto known = merges_.find(number); known != merges_.end()) return known->second;
  std::optional<Merge> merge;
  for (int attempt = 1; !merge; ++attempt) {
    auto id = MergeJobId(number, attempt);
    if (!id.ok()) return id.status();
    auto job = client_.FindJob(*id);
    if (!job.ok()) return job.status();
    if (!job->has_value()) break;  // No such attempt: none after it either.
    if (!(*job)->outcome.ok()) continue;
    merge = Merge{.job_id = *id,
                  .tables = TablesMergedBy((*job)->query),
                  .bytes_processed = (*job)->bytes_processed,
                  .bytes_billed = (*job)->bytes_billed};
    last_ = LastMerge{.seen_at = clock_.Now(),
                      .duration = (*job)->duration,
                      .bytes_billed = merge->bytes_billed,
                      .tables = merge->tables.size()};
  }
  // A merge not found may be one not readable yet: only a found one is remembered.
  if (merge) merges_[number] = merge;
  while (merges_.size() > kMergesKept) merges_.erase(merges_.begin());
  return merge;
}

absl::StatusOr<bool> MergeCommitter::RunMerge(std::int64_t number, const std::string& own_table) {
  // A staged table twice as old as any worker waits is nobody's: the margin is for the clocks
  // (BigQuery's creationTime against this worker's) and for workers set to wait longer.
  MergeChoice choice{.abandoned_before = clock_.Now() - 2 * (options_.governor.max_commit_delay +
                                                             options_.give_up_after)};
  // Merge n+1 starts once merge n is done: merges never overlap. The tables merge n took and
  // its worker has not dropped yet are left out, not merged twice.
  if (number > 1) {
    auto previous = MergeNumbered(number - 1);
    if (!previous.ok()) return previous.status();
    if (*previous) choice.merged_already = (*previous)->tables;
  }
  absl::Status failure;
  for (int attempt = 1, ran = 0; ran < kMaxMergeAttempts; ++attempt) {
    // Counted already: an attempt of it succeeded, whatever this worker saw of it.
    auto count = MergesSoFar();
    if (!count.ok()) return count.status();
    if (*count >= number) return true;
    auto id = MergeJobId(number, attempt);
    if (!id.ok()) return id.status();
    auto merged = MergeStaged(client_, tables_, *id, choice);
    if (!merged.ok()) return merged.status();
    if (!merged->has_value()) return false;        // Nothing staged any more.
    if ((*merged)->job.outcome.ok()) return true;  // Done, by this worker or another.
    if (!(*merged)->ran_here) continue;            // An earlier attempt, another worker's, failed.
    ++ran;
    failure = (*merged)->job.outcome;
    // Another's table may be what failed it: this worker's own batch alone next.
    choice.only = own_table;
  }
  return failure;
}

absl::StatusOr<MergedBatch> MergeCommitter::AnswerOf(const Merge& merge,
                                                     const std::string& batch_id) {
  auto result = client_.ReadResult(merge.job_id);
  if (!result.ok()) return result.status();
  const auto tables = std::max<std::int64_t>(std::int64_t(merge.tables.size()), 1);
  return MergedBatch{.merge_job = merge.job_id,
                     .stored_positions = StoredPositions(*result, batch_id),
                     .bytes_processed_share = merge.bytes_processed / tables,
                     .bytes_billed_share = merge.bytes_billed / tables};
}

}  // namespace bikestream::bigquery
