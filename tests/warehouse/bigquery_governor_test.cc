// When a BigQuery merge runs (commit_governor.h), worked by hand: the first at once; then when
// the rows waiting pay for the last merge's bill, or a batch has waited the longest delay;
// never sooner than the load jobs of the last merge allow.
#include <gtest/gtest.h>

#include "warehouse/bigquery/commit_governor.h"

namespace bikestream::bigquery {
namespace {

constexpr TimestampMicros kStaged = 1'000 * kMicrosPerSecond;
constexpr std::int64_t kMegabyte = 1024 * 1024;

const CommitGovernorOptions kOptions;  // 90 s, 100 KiB a row, 0.864 s a load job, 1 s.

// The worker's batch staged at kStaged, alone or with `tables` - 1 others, `rows` in all.
Waiting Staged(std::size_t rows, std::size_t tables = 1) {
  return Waiting{.staged_at = kStaged, .tables = tables, .rows = rows};
}

// A merge of `tables` billed 80 MB, seen `ago` before now (kStaged + `waited`).
LastMerge MergeBefore(DurationMicros ago, std::size_t tables, DurationMicros waited) {
  return LastMerge{
      .seen_at = kStaged + waited - ago, .bytes_billed = 80 * kMegabyte, .tables = tables};
}

TEST(CommitGovernorTest, TheFirstMergeRunsAtOnce) {
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, Staged(1), std::nullopt));
}

TEST(CommitGovernorTest, FewRowsWaitUntilTheLongestDelay) {
  // 80 MB over 100 KiB a row: 820 rows pay for a merge; 60 do not.
  const auto last = MergeBefore(10 * kMicrosPerSecond, 1, 0);
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, Staged(60), last));
  const DurationMicros almost = kOptions.max_commit_delay - 1;
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged + almost, Staged(60),
                           MergeBefore(10 * kMicrosPerSecond, 1, almost)));
  const DurationMicros waited = kOptions.max_commit_delay;
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged + waited, Staged(60),
                          MergeBefore(10 * kMicrosPerSecond, 1, waited)));
}

TEST(CommitGovernorTest, RowsThatPayForTheMergeRunItAtOnce) {
  const auto last = MergeBefore(10 * kMicrosPerSecond, 1, 0);
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, Staged(819), last));
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, Staged(820), last));
}

TEST(CommitGovernorTest, MergesAreSpacedByTheLoadJobsTheyTook) {
  // Four staged tables merged 3 s ago: four load jobs take 3.456 s of the project's day.
  const auto recent = MergeBefore(3 * kMicrosPerSecond, 4, 0);
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, Staged(100'000, 4), recent));
  const auto spaced = MergeBefore(3'456 * kMicrosPerMilli, 4, 0);
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, Staged(100'000, 4), spaced));
  // Counted from its start: a merge that ran 2 s, done 1.5 s ago, started 3.5 s ago.
  auto long_run = MergeBefore(1'500 * kMicrosPerMilli, 4, 0);
  long_run.duration = 2 * kMicrosPerSecond;
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, Staged(100'000, 4), long_run));
  // Not even the longest delay goes past the quota.
  const DurationMicros waited = kOptions.max_commit_delay;
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged + waited, Staged(1),
                           MergeBefore(3 * kMicrosPerSecond, 4, waited)));
}

TEST(CommitGovernorTest, RowsThatPayWaitAMomentForTheLastMergesWorkers) {
  // The last merge took four batches; one is staged again, and pays: it waits up to 1 s for
  // three more.
  const auto last = MergeBefore(10 * kMicrosPerSecond, 4, 0);
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, Staged(10'000, 1), last));
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, Staged(30'000, 3), last));
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, Staged(40'000, 4), last));
  const auto later = MergeBefore(11 * kMicrosPerSecond, 4, kOptions.gather);
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged + kOptions.gather, Staged(10'000, 1), later));
}

TEST(CommitGovernorTest, NoDelayMergesEveryBatchAtOnce) {
  const CommitGovernorOptions eager{.max_commit_delay = 0, .load_job_spacing = 0, .gather = 0};
  EXPECT_TRUE(ShouldMerge(eager, kStaged, Staged(1), MergeBefore(0, 1, 0)));
}

}  // namespace
}  // namespace bikestream::bigquery
