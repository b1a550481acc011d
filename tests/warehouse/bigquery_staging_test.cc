// Issue 36's staged writes on the tests' stand-in (docs/adr/0007's revision): batches staged by
// load jobs from two workers, redeliveries and dead letters among them, merged in one
// transaction: each event and each letter stored once, each batch told which of its events
// were new, the staged tables dropped.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"
#include "support/bigquery_sqlite.h"
#include "support/bigquery_stand_in.h"
#include "support/events.h"
#include "warehouse/bigquery/bigquery_warehouse.h"
#include "warehouse/bigquery/staging.h"

namespace bikestream::bigquery {
namespace {

using testing_support::BigQuerySqliteEngine;
using testing_support::BigQueryStandIn;
using testing_support::MakeEvent;

constexpr TimestampMicros kSecondDay = 1'763'337'600'000'000;  // 2025-11-17T00:00:00Z.

DeadLetter Letter(const std::string& message_id) {
  return DeadLetter{.first_seen = 1,
                    .source = "test",
                    .message_id = message_id,
                    .payload = "{",
                    .reason = "bad_json",
                    .error = "not JSON"};
}

class BigQueryStagingTest : public ::testing::Test {
 protected:
  BigQueryStagingTest() : stand_in_({}, std::make_unique<BigQuerySqliteEngine>()) {
    BigQueryWarehouseOptions options{.dataset = "bikes"};
    options.client.endpoint = stand_in_.url();
    options.client.project = "test-project";
    auto opened = OpenBigQueryWarehouse(options, TableNames{});
    EXPECT_TRUE(opened.ok() && (*opened)->Setup().ok());
    warehouse_ = std::move(*opened);
    for (int worker = 0; worker < 2; ++worker) {
      workers_.push_back(std::make_unique<Client>(ClientOptions{
          .endpoint = stand_in_.url(), .project = "test-project", .default_dataset = "bikes"}));
    }
  }

  std::int64_t Count(const std::string& table) {
    auto result = warehouse_->Query("SELECT COUNT(*) AS n FROM " + table);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
  }

  void TearDown() override { EXPECT_EQ(stand_in_.invalid_requests(), 0); }

  BigQueryStandIn stand_in_;
  std::unique_ptr<Warehouse> warehouse_;
  std::vector<std::unique_ptr<Client>> workers_;
};

TEST_F(BigQueryStagingTest, OneMergeStoresEveryStagedEventAndLetterOnce) {
  Batch first;  // e-1 twice in one batch.
  first.events = {MakeEvent("e-1"), MakeEvent("e-2"), MakeEvent("e-1")};
  first.dead_letters = {Letter("m-1")};
  Batch second;  // e-2 again from the other worker, and a day later e-3; m-1 again.
  second.events = {MakeEvent("e-2"), MakeEvent("e-3", "A_101", kSecondDay + 5)};
  second.dead_letters = {Letter("m-1"), Letter("m-2")};
  ASSERT_TRUE(StageBatch(*workers_[0], first, "b1").ok());
  auto staged = StageBatch(*workers_[1], second, "b2");
  ASSERT_TRUE(staged.ok()) << staged.status();
  EXPECT_EQ(staged->name, "_bikestream_stage_b2_2_2_20251018_20251117");
  EXPECT_EQ(staged->events, 2u);
  EXPECT_EQ(staged->letters, 2u);

  auto merged = MergeStaged(*workers_[0], TableNames{}, "merge_1");
  ASSERT_TRUE(merged.ok()) << merged.status();
  ASSERT_TRUE(merged->has_value());
  ASSERT_TRUE((*merged)->job.outcome.ok()) << (*merged)->job.outcome;
  EXPECT_EQ(TablesMergedBy((*merged)->job.query),
            (std::set<std::string>{"_bikestream_stage_b1_3_1_20251018_20251018", staged->name}));
  EXPECT_EQ(Count("raw_events"), 3);
  EXPECT_EQ(Count("dead_letter"), 2);
  // Each id new in exactly one batch, at its first copy: b1's e-1 (0) and e-2 (1), b2's e-3.
  auto result = workers_[1]->ReadResult("merge_1");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(StoredPositions(*result, "b1"), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(StoredPositions(*result, "b2"), (std::vector<std::size_t>{1}));
  EXPECT_GT((*merged)->job.bytes_billed, 0);
  auto left = ListStaged(*workers_[0]);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());  // Merged tables are dropped.

  // A redelivery, staged again under a new id: all duplicates; and nothing staged, no merge.
  ASSERT_TRUE(StageBatch(*workers_[1], first, "b3").ok());
  merged = MergeStaged(*workers_[1], TableNames{}, "merge_2");
  ASSERT_TRUE(merged.ok() && merged->has_value()) << merged.status();
  result = workers_[1]->ReadResult("merge_2");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(StoredPositions(*result, "b3").empty());
  EXPECT_EQ(Count("raw_events"), 3);
  EXPECT_EQ(Count("dead_letter"), 2);
  merged = MergeStaged(*workers_[1], TableNames{}, "merge_3");
  ASSERT_TRUE(merged.ok());
  EXPECT_FALSE(merged->has_value());
}

// Two workers racing to run one merge insert its one job id: one runs it, the other is
// handed that job, and neither runs a second transaction.
TEST_F(BigQueryStagingTest, WorkersRacingForOneMergeRunItOnce) {
  Batch batch;
  batch.events = {MakeEvent("e-1")};
  ASSERT_TRUE(StageBatch(*workers_[0], batch, "b1").ok());
  auto first = MergeStaged(*workers_[0], TableNames{}, "merge_7_1");
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  // The second worker lists another staged table, so its statement differs; the id was taken,
  // and answers with the first's job.
  ASSERT_TRUE(StageBatch(*workers_[1], batch, "b2").ok());
  const int before = stand_in_.executions();
  auto second = MergeStaged(*workers_[1], TableNames{}, "merge_7_1");
  ASSERT_TRUE(second.ok() && second->has_value()) << second.status();
  EXPECT_EQ((*second)->job.query, (*first)->job.query);
  EXPECT_TRUE((*first)->ran_here);
  EXPECT_FALSE((*second)->ran_here);
  EXPECT_EQ(stand_in_.executions(), before);
  auto left = ListStaged(*workers_[1]);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 1u);  // Not the second's to drop: the next merge takes it.
}

// A table the last merge took, whose worker died before dropping it, is left out of the next
// merge and dropped: merged once, billed once.
TEST_F(BigQueryStagingTest, TheLastMergesTablesAreLeftOutAndDropped) {
  Batch batch;
  batch.events = {MakeEvent("e-1")};
  auto left = StageBatch(*workers_[0], batch, "b1");
  ASSERT_TRUE(left.ok()) << left.status();
  Batch other;
  other.events = {MakeEvent("e-2")};
  auto fresh = StageBatch(*workers_[1], other, "b2");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  auto merged =
      MergeStaged(*workers_[1], TableNames{}, "merge_9", {.merged_already = {left->name}});
  ASSERT_TRUE(merged.ok() && merged->has_value()) << merged.status();
  EXPECT_EQ(TablesMergedBy((*merged)->job.query), std::set<std::string>{fresh->name});
  auto staged = ListStaged(*workers_[0]);
  ASSERT_TRUE(staged.ok());
  EXPECT_TRUE(staged->empty());
  EXPECT_EQ(Count("raw_events"), 1);
}

// BigQuery refuses a query of too many tables: a merge takes some, the next one the rest.
TEST_F(BigQueryStagingTest, AMergeTakesAtMostItsShareOfTablesAndTheNextTheRest) {
  for (int i = 0; i < 5; ++i) {
    Batch batch;
    batch.events = {MakeEvent(fmt::format("e-{}", i))};
    ASSERT_TRUE(StageBatch(*workers_[0], batch, fmt::format("b{}", i)).ok());
  }
  auto first = MergeStaged(*workers_[0], TableNames{}, "merge_1", {.max_tables = 3});
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  const std::set<std::string> taken = TablesMergedBy((*first)->job.query);
  EXPECT_EQ(taken.size(), 3u);
  auto left = ListStaged(*workers_[0]);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  for (const StagedTable& table : *left) EXPECT_FALSE(taken.contains(table.name)) << table.name;
  auto second = MergeStaged(*workers_[0], TableNames{}, "merge_2",
                            {.merged_already = taken, .max_tables = 3});
  ASSERT_TRUE(second.ok() && second->has_value()) << second.status();
  EXPECT_EQ(TablesMergedBy((*second)->job.query).size(), 2u);
  EXPECT_EQ(Count("raw_events"), 5);
}

// A worker whose merge of every table failed merges its own alone; a table older than any
// worker waits is dropped, not merged (its messages came again).
TEST_F(BigQueryStagingTest, AMergeCanTakeOneTableAndDropsTablesNobodyWaitsFor) {
  Batch mine, theirs;
  mine.events = {MakeEvent("e-1")};
  theirs.events = {MakeEvent("e-2")};
  auto own = StageBatch(*workers_[0], mine, "mine");
  ASSERT_TRUE(own.ok()) << own.status();
  auto other = StageBatch(*workers_[1], theirs, "theirs");
  ASSERT_TRUE(other.ok()) << other.status();
  auto alone = MergeStaged(*workers_[0], TableNames{}, "merge_1", {.only = own->name});
  ASSERT_TRUE(alone.ok() && alone->has_value()) << alone.status();
  EXPECT_EQ(TablesMergedBy((*alone)->job.query), std::set<std::string>{own->name});
  auto left = ListStaged(*workers_[0]);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).name, other->name);
  const TimestampMicros now = SystemClock().Now();
  EXPECT_GT(left->at(0).created, now - 60 * kMicrosPerSecond);  // Its creationTime, listed.

  auto none = MergeStaged(*workers_[0], TableNames{}, "merge_2",
                          {.abandoned_before = now + kMicrosPerMinute});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  left = ListStaged(*workers_[0]);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  EXPECT_EQ(Count("raw_events"), 1);
}

TEST_F(BigQueryStagingTest, StagedNamesTellTheirBatchRowsAndDays) {
  auto table = ParseStagedTable("_bikestream_stage_ab12_7_0_20251117_20251118");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->batch, "ab12");
  EXPECT_EQ(table->events, 7u);
  EXPECT_EQ(table->letters, 0u);
  ASSERT_TRUE(table->days);
  EXPECT_EQ(table->days->first, kSecondDay);
  EXPECT_EQ(table->days->second, kSecondDay + 2 * 24 * kMicrosPerHour - 1);
  auto letters_only = ParseStagedTable("_bikestream_stage_cd_0_2_none_none");
  ASSERT_TRUE(letters_only);
  EXPECT_FALSE(letters_only->days);
  for (const char* name :
       {"raw_events", "_bikestream_stage_ab_x_0_none_none", "_bikestream_stage_ab_1_0_2025_none",
        "_bikestream_stage_ab_1_0_none", "_bikestream_stage__1_0_none_none"}) {
    EXPECT_FALSE(ParseStagedTable(name)) << name;
  }
}

TEST_F(BigQueryStagingTest, AMergeIsBilledForTheTablesItReadsNotForItsBatches) {
  Batch batch;
  batch.events = {MakeEvent("e-1")};
  ASSERT_TRUE(StageBatch(*workers_[0], batch, "one").ok());
  auto alone = MergeStaged(*workers_[0], TableNames{}, "merge_a");
  ASSERT_TRUE(alone.ok() && alone->has_value()) << alone.status();
  // The 10 MB minimum, five times: the writer row; the staged table and raw_events for
  // new_events; new_events for the insert and for the result. No letters: dead_letter unread.
  EXPECT_EQ((*alone)->job.bytes_billed, 5 * testing_support::kMinimumBilledPerTable);
  for (int i = 0; i < 2; ++i) {
    Batch more;
    for (int e = 0; e < 200; ++e) more.events.push_back(MakeEvent(fmt::format("w{}-{}", i, e)));
    ASSERT_TRUE(StageBatch(*workers_[i], more, fmt::format("many{}", i)).ok());
  }
  auto two = MergeStaged(*workers_[0], TableNames{}, "merge_b");
  ASSERT_TRUE(two.ok() && two->has_value()) << two.status();
  // 400 events from two workers cost one more staged table's 10 MB than 1 event from one.
  EXPECT_EQ((*two)->job.bytes_billed - (*alone)->job.bytes_billed,
            testing_support::kMinimumBilledPerTable);
  EXPECT_EQ(Count("raw_events"), 401);
}

}  // namespace
}  // namespace bikestream::bigquery
