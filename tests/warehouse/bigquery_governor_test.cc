// When a BigQuery merge runs (commit_governor.h), worked by hand: the first at once; then when
// the rows waiting pay for the last merge's bill, or a batch has waited the longest delay;
// never sooner than the load jobs of the last merge allow.
#include <gtest/gtest.h>

#include "warehouse/bigquery/commit_governor.h"

namespace bikestream::bigquery {
namespace {

constexpr TimestampMicros kStaged = 1'000 * kMicrosPerSecond;
constexpr std::int64_t kMegabyte = 1024 * 1024;

const CommitGovernorOptions kOptions;  // 60 s, 100 KiB a row, 0.864 s a load job.

// A merge of `tables` billed 80 MB, seen `ago` before now (kStaged + `waited`).
LastMerge MergeBefore(DurationMicros ago, std::size_t tables, DurationMicros waited) {
  return LastMerge{
      .seen_at = kStaged + waited - ago, .bytes_billed = 80 * kMegabyte, .tables = tables};
}

TEST(CommitGovernorTest, TheFirstMergeRunsAtOnce) {
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, kStaged, 1, std::nullopt));
}

TEST(CommitGovernorTest, FewRowsWaitUntilTheLongestDelay) {
  // 80 MB over 100 KiB a row: 820 rows pay for a merge; 60 do not.
  const auto last = MergeBefore(10 * kMicrosPerSecond, 1, 0);
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, kStaged, 60, last));
  const DurationMicros almost = kOptions.max_commit_delay - 1;
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged + almost, kStaged, 60,
                           MergeBefore(10 * kMicrosPerSecond, 1, almost)));
  const DurationMicros waited = kOptions.max_commit_delay;
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged + waited, kStaged, 60,
                          MergeBefore(10 * kMicrosPerSecond, 1, waited)));
}

TEST(CommitGovernorTest, RowsThatPayForTheMergeRunItAtOnce) {
  const auto last = MergeBefore(10 * kMicrosPerSecond, 1, 0);
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, kStaged, 819, last));
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, kStaged, 820, last));
}

TEST(CommitGovernorTest, MergesAreSpacedByTheLoadJobsTheyTook) {
  // Four staged tables merged 3 s ago: four load jobs take 3.456 s of the project's day.
  const auto recent = MergeBefore(3 * kMicrosPerSecond, 4, 0);
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged, kStaged, 100'000, recent));
  const auto spaced = MergeBefore(3'456 * kMicrosPerMilli, 4, 0);
  EXPECT_TRUE(ShouldMerge(kOptions, kStaged, kStaged, 100'000, spaced));
  // Not even the longest delay goes past the quota.
  const DurationMicros waited = kOptions.max_commit_delay;
  EXPECT_FALSE(ShouldMerge(kOptions, kStaged + waited, kStaged, 1,
                           MergeBefore(3 * kMicrosPerSecond, 4, waited)));
}

TEST(CommitGovernorTest, NoDelayMergesEveryBatchAtOnce) {
  const CommitGovernorOptions eager{.max_commit_delay = 0, .load_job_spacing = 0};
  EXPECT_TRUE(ShouldMerge(eager, kStaged, kStaged, 1, MergeBefore(0, 1, 0)));
}

}  // namespace
}  // namespace bikestream::bigquery
