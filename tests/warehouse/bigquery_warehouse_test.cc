// What is particular to the BigQuery warehouse, on the tests' stand-in running its statements
// on SQLite: exactly once through lost answers and failed jobs, the tables setup makes, and
// an existing table that differs (the contract itself runs in warehouse_contract_test.cc).
#include "warehouse/bigquery/bigquery_warehouse.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "support/bigquery_sqlite.h"
#include "support/bigquery_stand_in.h"
#include "support/events.h"

namespace bikestream {
namespace {

using json = nlohmann::json;
using testing_support::BigQuerySqliteEngine;
using testing_support::BigQueryStandIn;
using testing_support::MakeEvent;

class BigQueryWarehouseTest : public ::testing::Test {
 protected:
  BigQueryWarehouseTest() : stand_in_({}, std::make_unique<BigQuerySqliteEngine>()) {}

  std::unique_ptr<Warehouse> Open() { return Open(stand_in_); }
  std::unique_ptr<Warehouse> Open(BigQueryStandIn& stand_in, bool transaction_per_batch = false) {
    BigQueryWarehouseOptions options{.dataset = "bikes",
                                     .transaction_per_batch = transaction_per_batch};
    options.client.endpoint = stand_in.url();
    options.client.project = "test-project";
    options.commit.governor = {.max_commit_delay = 0, .load_job_spacing = 0};
    options.commit.poll = 10 * kMicrosPerMilli;
    auto opened = OpenBigQueryWarehouse(std::move(options), TableNames{});
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (!opened.ok()) return nullptr;
    (*opened)->ObserveCosts([this](const StatementCost& cost) { bytes_ += cost.bytes_processed; });
    return std::move(*opened);
  }

  std::int64_t Count(Warehouse& warehouse, const std::string& table) {
    auto result = warehouse.Query("SELECT COUNT(*) AS n FROM " + table);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
  }

  void TearDown() override {
    EXPECT_EQ(stand_in_.invalid_requests(), 0) << "a request broke BigQuery's schema";
  }

  BigQueryStandIn stand_in_;
  std::int64_t bytes_ = 0;
};

TEST_F(BigQueryWarehouseTest, ALostCommitAnswerIsReadBackAndNothingIsStoredTwice) {
  auto warehouse = Open();
  ASSERT_TRUE(warehouse->Setup().ok());
  stand_in_.InjectFault({.method = "jobs.insert",
                         .http_status = 503,
                         .reason = "backendError",
                         .after_applying = true});
  Batch batch;
  batch.events = {MakeEvent("e-1"), MakeEvent("e-2"), MakeEvent("e-1")};
  auto first = warehouse->Commit(batch);
  ASSERT_TRUE(first.ok()) << first.status();
  // The answer of the job that ran: its newly stored events, not "all duplicates".
  EXPECT_EQ(first->stored, 2u);
  EXPECT_EQ(first->newly_stored, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(Count(*warehouse, "raw_events"), 2);
  auto again = warehouse->Commit(batch);  // The batch redelivered: a new commit.
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->stored, 0u);
  EXPECT_EQ(again->duplicates, 3u);
  EXPECT_EQ(Count(*warehouse, "raw_events"), 2);
  EXPECT_GT(bytes_, 0);  // Each statement's bytes are reported.
}

// A merge cancelled (a replay met it on the writer row) is followed by the merge's next
// attempt, under the next id.
TEST_F(BigQueryWarehouseTest, AMergeThatFailedIsFollowedByItsNextAttempt) {
  auto warehouse = Open();
  ASSERT_TRUE(warehouse->Setup().ok());
  stand_in_.FailNextJob(
      {.reason = "invalidQuery",
       .message = "Query error: Transaction is aborted due to concurrent update against table "
                  "test-project:bikes._bikestream_writer. Transaction ID: 61e30eea at [2:1]"});
  Batch batch;
  batch.events = {MakeEvent("e-1"), MakeEvent("e-2")};
  auto committed = warehouse->Commit(batch);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->stored, 2u);
  EXPECT_EQ(Count(*warehouse, "raw_events"), 2);
  std::vector<std::string> merges;
  for (const std::string& id : stand_in_.job_ids()) {
    if (id.starts_with("bikestream_merge_bikes_")) merges.push_back(id.substr(id.size() - 4));
  }
  std::sort(merges.begin(), merges.end());
  EXPECT_EQ(merges, (std::vector<std::string>{"_1_1", "_1_2"}));
}

// A staged table that cannot merge (here: another release's columns, its worker gone) fails
// the merges that list it; a worker then merges its own batch alone.
TEST_F(BigQueryWarehouseTest, AStagedTableThatCannotMergeHoldsBackOnlyItsOwnBatch) {
  auto warehouse = Open();
  ASSERT_TRUE(warehouse->Setup().ok());
  bigquery::Client client(
      {.endpoint = stand_in_.url(), .project = "test-project", .default_dataset = "bikes"});
  const std::string poison = "_bikestream_stage_0bad_1_0_20251117_20251117";
  ASSERT_TRUE(
      client.LoadRows("load_poison", poison, {{"batch", "STRING"}}, R"({"batch":"0bad"})").ok());
  for (int i = 0; i < 2; ++i) {
    Batch batch;
    batch.events = {MakeEvent(fmt::format("e-{}", i))};
    auto committed = warehouse->Commit(batch);
    ASSERT_TRUE(committed.ok()) << committed.status();
    EXPECT_EQ(committed->stored, 1u);
  }
  EXPECT_EQ(Count(*warehouse, "raw_events"), 2);
  std::vector<std::string> merges;  // Each merge: all tables failed, then the batch alone.
  for (const std::string& id : stand_in_.job_ids()) {
    if (id.starts_with("bikestream_merge_bikes_")) merges.push_back(id.substr(id.size() - 4));
  }
  std::sort(merges.begin(), merges.end());
  EXPECT_EQ(merges, (std::vector<std::string>{"_1_1", "_1_2", "_2_1", "_2_2"}));
  auto staged = client.ListTables("_bikestream_stage_");
  ASSERT_TRUE(staged.ok());
  ASSERT_EQ(staged->size(), 1u);  // Left for the merge after its worker's give-up time.
  EXPECT_EQ(staged->at(0).id, poison);
}

// Four workers committing at once, as BigQuery runs them: transactions that take time, the
// later of two writing one table cancelled. Merges never overlap, so none is cancelled; a
// merge takes the batches of several workers; each event is stored once and reported new to
// exactly one worker.
TEST_F(BigQueryWarehouseTest, WorkersCommittingAtOnceShareMergesAndNoneIsCancelled) {
  BigQueryStandIn slow({.transaction_time = std::chrono::milliseconds(300)},
                       std::make_unique<BigQuerySqliteEngine>());
  std::vector<std::unique_ptr<Warehouse>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(Open(slow));
  ASSERT_TRUE(workers[0]->Setup().ok());
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  std::atomic<std::size_t> stored{0};
  std::atomic<std::size_t> duplicates{0};
  for (auto& worker : workers) {
    threads.emplace_back([&, &worker = worker] {
      for (int b = 0; b < 3; ++b) {
        Batch batch;  // Every worker holds the same events: redeliveries to the others.
        for (int e = 0; e < 5; ++e) batch.events.push_back(MakeEvent(fmt::format("e-{}-{}", b, e)));
        auto committed = worker->Commit(batch);
        if (!committed.ok()) {
          ++failed;
          continue;
        }
        stored += committed->stored;
        duplicates += committed->duplicates;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(slow.cancelled_for_concurrent_update(), 0);
  EXPECT_EQ(Count(*workers[0], "raw_events"), 15);
  EXPECT_EQ(stored, 15u);
  EXPECT_EQ(duplicates, 4u * 15u - 15u);
  const std::int64_t merges = Count(*workers[0], "_bikestream_writer WHERE commits > 0") > 0
                                  ? std::stoll(workers[0]
                                                   ->Query("SELECT MAX(commits) AS n FROM "
                                                           "_bikestream_writer")
                                                   ->rows.at(0)
                                                   .at(0)
                                                   .text)
                                  : 0;
  EXPECT_GT(merges, 0);
  EXPECT_LT(merges, 12);  // Fewer merges than commits: merges take several workers' batches.
  EXPECT_EQ(slow.invalid_requests(), 0);
}

// The design before merges, kept as the benchmark's reference: each batch one transaction,
// which BigQuery cancels when another worker's is running; it runs again, and every event is
// stored once all the same.
TEST_F(BigQueryWarehouseTest, TransactionsPerBatchAreCancelledByConcurrentOnesAndRunAgain) {
  BigQueryStandIn slow({.transaction_time = std::chrono::milliseconds(300)},
                       std::make_unique<BigQuerySqliteEngine>());
  std::vector<std::unique_ptr<Warehouse>> workers;
  for (int i = 0; i < 2; ++i) workers.push_back(Open(slow, /*transaction_per_batch=*/true));
  ASSERT_TRUE(workers[0]->Setup().ok());
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (auto& worker : workers) {
    threads.emplace_back([&failed, &worker] {
      for (int b = 0; b < 3; ++b) {
        Batch batch;  // Both workers hold the same events: a redelivery to the other.
        for (int e = 0; e < 5; ++e) batch.events.push_back(MakeEvent(fmt::format("e-{}-{}", b, e)));
        if (!worker->Commit(batch).ok()) ++failed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed, 0);
  EXPECT_GT(slow.cancelled_for_concurrent_update(), 0);
  EXPECT_EQ(Count(*workers[0], "raw_events"), 15);
  EXPECT_EQ(slow.invalid_requests(), 0);
}

// Every attempt of a merge failed: the commit fails with BigQuery's reason, stores nothing,
// and its staged table is gone, so that the batch, coming again, is the one told what is new.
TEST_F(BigQueryWarehouseTest, AFailedCommitStoresNothingAndSaysWhy) {
  auto warehouse = Open();
  ASSERT_TRUE(warehouse->Setup().ok());
  for (int attempt = 0; attempt < 5; ++attempt) {
    stand_in_.FailNextJob(
        {.reason = "invalidQuery", .message = "Query error: something the warehouse got wrong"});
  }
  Batch batch;
  batch.events = {MakeEvent("e-1")};
  batch.dead_letters = {DeadLetter{.first_seen = 1,
                                   .source = "test",
                                   .message_id = "m-1",
                                   .payload = "{",
                                   .reason = "bad_json",
                                   .error = "not JSON"}};
  auto failed = warehouse->Commit(batch);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().ToString().find("something the warehouse got wrong"),
            std::string::npos);
  EXPECT_EQ(Count(*warehouse, "raw_events"), 0);
  EXPECT_EQ(Count(*warehouse, "dead_letter"), 0);
  bigquery::Client client(
      {.endpoint = stand_in_.url(), .project = "test-project", .default_dataset = "bikes"});
  auto staged = client.ListTables("_bikestream_stage_");
  ASSERT_TRUE(staged.ok()) << staged.status();
  EXPECT_TRUE(staged->empty());
  auto retried = warehouse->Commit(batch);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->stored, 1u);
  EXPECT_EQ(retried->newly_stored, std::vector<bool>{true});
  EXPECT_EQ(Count(*warehouse, "dead_letter"), 1);
}

TEST_F(BigQueryWarehouseTest, ADeadLetterThatIsNotUtf8IsKeptWithItsBadBytesReplaced) {
  auto warehouse = Open();
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch batch;
  batch.dead_letters = {DeadLetter{.first_seen = 1,
                                   .source = "test",
                                   .message_id = "m-1",
                                   .payload = "\xC0\xFF{\"bad\": 1}",
                                   .reason = "bad_json",
                                   .error = "not JSON"}};
  auto committed = warehouse->Commit(batch);
  ASSERT_TRUE(committed.ok()) << committed.status();
  auto letters = warehouse->ListDeadLetters({});
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].payload, "\xEF\xBF\xBD\xEF\xBF\xBD{\"bad\": 1}");
}

// A replay is one transaction whose events travel in the request: past BigQuery's 10 MB it is
// refused before it is sent, and says so. (A commit stages its batch by an upload, which has
// no such limit; a replay goes in pages of 10,000 letters, far below it.)
TEST_F(BigQueryWarehouseTest, AReplayOverTheRequestLimitIsRefusedBeforeItIsSent) {
  auto warehouse = Open();
  std::vector<Event> events;
  for (int i = 0; i < 60'000; ++i) events.push_back(MakeEvent("event-" + std::to_string(i)));
  auto refused = warehouse->ResolveDeadLetters(events, {1});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsRowRefused(refused.status())) << refused.status();
  EXPECT_EQ(stand_in_.executions(), 0);  // Nothing was sent.
}

TEST_F(BigQueryWarehouseTest,
       SetupMakesTheDatasetAndPartitionedClusteredTablesAndIsSafeToRunAgain) {
  auto warehouse = Open();
  ASSERT_TRUE(warehouse->Setup().ok());
  ASSERT_TRUE(warehouse->Setup().ok());
  auto dataset = stand_in_.dataset("bikes");
  ASSERT_TRUE(dataset);
  EXPECT_EQ((*dataset)["location"], "US");
  auto raw = stand_in_.table("bikes", "raw_events");
  ASSERT_TRUE(raw);
  EXPECT_EQ((*raw)["timePartitioning"], (json{{"type", "DAY"}, {"field", "ts_iso"}}));
  EXPECT_EQ((*raw)["clustering"]["fields"], json::array({"station_id"}));
  std::vector<std::string> columns;
  for (const json& field : (*raw)["schema"]["fields"])
    columns.push_back(field["name"].get<std::string>() + " " + field["type"].get<std::string>());
  EXPECT_EQ(columns,
            (std::vector<std::string>{"event_id STRING", "station_id STRING", "ts_iso TIMESTAMP",
                                      "kind STRING", "delta INTEGER"}));
  EXPECT_TRUE(stand_in_.table("bikes", "station_features"));
  EXPECT_TRUE(stand_in_.table("bikes", "dead_letter"));
  // One writer row, however often setup runs.
  EXPECT_EQ(Count(*warehouse, "_bikestream_writer"), 1);
}

TEST_F(BigQueryWarehouseTest, AnExistingTableWithAnotherSchemaIsReportedAndLeftAsItIs) {
  bigquery::Client client({.endpoint = stand_in_.url(), .project = "test-project"});
  ASSERT_TRUE(client
                  .CreateDataset({{"datasetReference",
                                   {{"projectId", "test-project"}, {"datasetId", "bikes"}}},
                                  {"location", "US"}})
                  .ok());
  const json theirs = {
      {"tableReference",
       {{"projectId", "test-project"}, {"datasetId", "bikes"}, {"tableId", "raw_events"}}},
      {"schema",
       {{"fields", json::array({{{"name", "event_id"}, {"type", "STRING"}},
                                {{"name", "ts"}, {"type", "TIMESTAMP"}}})}}}};
  ASSERT_TRUE(client.CreateTable("bikes", theirs).ok());
  auto warehouse = Open();
  absl::Status setup = warehouse->Setup();
  ASSERT_FALSE(setup.ok());
  EXPECT_EQ(setup.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(setup.ToString().find("test-project:bikes.raw_events exists with another schema"),
            std::string::npos)
      << setup;
  EXPECT_NE(setup.ToString().find("ts TIMESTAMP NULLABLE"), std::string::npos) << setup;
  EXPECT_EQ((*stand_in_.table("bikes", "raw_events"))["schema"], theirs["schema"]);
}

TEST_F(BigQueryWarehouseTest, ADatasetElsewhereNamesTheLocationToUse) {
  bigquery::Client client({.endpoint = stand_in_.url(), .project = "test-project"});
  ASSERT_TRUE(client
                  .CreateDataset({{"datasetReference",
                                   {{"projectId", "test-project"}, {"datasetId", "bikes"}}},
                                  {"location", "EU"}})
                  .ok());
  absl::Status setup = Open()->Setup();
  ASSERT_FALSE(setup.ok());
  EXPECT_NE(setup.ToString().find("?location=EU"), std::string::npos) << setup;
}

TEST_F(BigQueryWarehouseTest, UrlsNameTheirForm) {
  auto bad = OpenWarehouse("bigquery://my-project");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("bigquery://PROJECT/DATASET"), std::string::npos)
      << bad.status();
}

}  // namespace
}  // namespace bikestream
