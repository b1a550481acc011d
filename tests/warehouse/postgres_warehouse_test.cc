// What is particular to the PostgreSQL engine, against a real server: errors that name the fix,
// riding out restarts, concurrent workers, month partitions with global dedup, bytes that are
// not text (features identical to SQLite's: features/engine_parity_test.cc).
#include "warehouse/postgres/postgres_warehouse.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "common/redact.h"
#include "support/postgres_server.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using testing_support::PostgresServer;
using testing_support::SharedPostgres;

const TimestampMicros kStart = *ParseRfc3339("2025-10-30T00:00:00Z");

std::unique_ptr<Warehouse> FreshWarehouse(const std::string& database,
                                          PostgresOptions options = {}) {
  auto opened = OpenPostgresWarehouse(SharedPostgres().CreateDatabase(database), {}, options);
  EXPECT_TRUE(opened.ok()) << opened.status();
  if (!opened.ok()) return nullptr;
  EXPECT_TRUE((*opened)->Setup().ok());
  return std::move(*opened);
}

std::int64_t Count(Warehouse& warehouse, const std::string& sql) {
  auto result = warehouse.Query(sql);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? std::stoll(result->rows.at(0).at(0).text) : -1;
}

Batch EventsBatch(const std::vector<std::string>& ids, TimestampMicros ts = kStart) {
  Batch batch;
  for (const auto& id : ids) batch.events.push_back(Event{id, "A_101", ts, Kind::kPickup, 1});
  return batch;
}

TEST(PostgresWarehouse, MalformedUrlsNameTheForm) {
  auto opened = OpenWarehouse("postgresql://localhost/db?no_such_option=1");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().ToString().find("postgresql://USER"), std::string::npos)
      << opened.status();
}

TEST(PostgresWarehouse, PasswordsAreRedactedWhereverTheUrlPrints) {
  EXPECT_EQ(RedactUrl("postgresql://bike:s3cret@db:5432/bikes"),
            "postgresql://bike:***@db:5432/bikes");
  EXPECT_EQ(RedactUrl("postgresql://bike:p@ss@db/bikes?sslmode=require"),
            "postgresql://bike:***@db/bikes?sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://bike@db/bikes?password=s3cret&sslmode=require"),
            "postgresql://bike@db/bikes?password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("host=db password=s3cret dbname=bikes"), "host=db password=*** dbname=bikes");
  EXPECT_EQ(RedactUrl("postgresql://bike@db:5432/bikes"), "postgresql://bike@db:5432/bikes");
  EXPECT_EQ(RedactUrl("sqlite:bike:s@x.db"), "sqlite:bike:s@x.db");
}

TEST(PostgresWarehouse, AWrongPasswordIsRefusedWithoutEchoingIt) {
  REQUIRE_POSTGRES();
  const std::string url = fmt::format("postgresql://{}:not-the-password@127.0.0.1:{}/postgres",
                                      PostgresServer::kUser, SharedPostgres().port());
  auto opened = OpenWarehouse(url);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(opened.status().ToString().find("PGPASSWORD"), std::string::npos) << opened.status();
  EXPECT_EQ(opened.status().ToString().find("not-the-password"), std::string::npos);
}

TEST(PostgresWarehouse, AMissingDatabaseSaysHowToCreateIt) {
  REQUIRE_POSTGRES();
  auto opened = OpenWarehouse(SharedPostgres().Url("no_such_db"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(opened.status().ToString().find(
                fmt::format("createdb -h 127.0.0.1 -p {} no_such_db", SharedPostgres().port())),
            std::string::npos)
      << opened.status();
}

TEST(PostgresWarehouse, NoServerIsUnavailableAndSaysWhatToCheck) {
  const int port = testing_support::FreeLoopbackPort();
  auto opened = OpenWarehouse(fmt::format("postgresql://u:p@127.0.0.1:{}/db", port));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(opened.status().ToString().find("Is the server running"), std::string::npos)
      << opened.status();
}

TEST(PostgresWarehouse, ACommitRidesOutAServerRestartAndStoresOnce) {
  REQUIRE_POSTGRES();
  auto warehouse = FreshWarehouse("restart");
  ASSERT_TRUE(warehouse);
  ASSERT_TRUE(warehouse->Commit(EventsBatch({"e-1", "e-2"})).ok());
  SharedPostgres().Stop();
  std::thread restart([] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    SharedPostgres().Start();
  });
  // Issued while the server is down: it waits, reconnects and commits.
  auto committed = warehouse->Commit(EventsBatch({"e-2", "e-3"}));
  restart.join();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->stored, 1u);
  EXPECT_EQ(committed->duplicates, 1u);
  EXPECT_EQ(Count(*warehouse, "SELECT count(*) FROM raw_events"), 3);
}

TEST(PostgresWarehouse, GivesUpAfterItsRetryWindowThenRecovers) {
  REQUIRE_POSTGRES();
  auto warehouse = FreshWarehouse("give_up", PostgresOptions{.retry_for = kMicrosPerSecond});
  ASSERT_TRUE(warehouse);
  SharedPostgres().Stop();
  auto failed = warehouse->Commit(EventsBatch({"e-1"}));
  SharedPostgres().Start();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  auto retried = warehouse->Commit(EventsBatch({"e-1"}));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->stored, 1u);
}

TEST(PostgresWarehouse, ConcurrentWritersStoreEachEventOnce) {
  REQUIRE_POSTGRES();
  constexpr int kWriters = 4, kBatches = 20, kBatchSize = 500, kDistinct = 3000;
  auto setup = FreshWarehouse("concurrent");
  ASSERT_TRUE(setup);
  const std::string url = SharedPostgres().Url("concurrent");
  std::atomic<std::size_t> stored{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto warehouse = std::move(*OpenWarehouse(url));
      std::mt19937 random(w);
      for (int b = 0; b < kBatches; ++b) {
        // Overlapping batches in different orders: the redeliveries between workers.
        std::vector<std::string> ids;
        for (int i = 0; i < kBatchSize; ++i)
          ids.push_back(fmt::format("e-{}", random() % kDistinct));
        auto committed =
            warehouse->Commit(EventsBatch(ids, kStart + (random() % 48) * kMicrosPerHour));
        if (!committed.ok()) {
          ++failures;
          ADD_FAILURE() << committed.status();
          continue;
        }
        stored += committed->stored;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failures, 0);
  const std::int64_t rows = Count(*setup, "SELECT count(*) FROM raw_events");
  EXPECT_EQ(rows, Count(*setup, "SELECT count(DISTINCT event_id) FROM raw_events"));
  EXPECT_EQ(static_cast<std::int64_t>(stored), rows);
  EXPECT_EQ(rows, Count(*setup, "SELECT count(*) FROM raw_events_ids"));
}

TEST(PostgresWarehouse, MonthPartitionsDropWholeWhileDedupStaysGlobal) {
  REQUIRE_POSTGRES();
  auto warehouse = FreshWarehouse("partitions");
  ASSERT_TRUE(warehouse);
  const TimestampMicros october = *ParseRfc3339("2025-10-31T23:59:59.999999Z");
  const TimestampMicros november = *ParseRfc3339("2025-11-01T00:00:00Z");
  const TimestampMicros december = *ParseRfc3339("2025-12-15T00:00:00Z");
  ASSERT_TRUE(warehouse->Commit(EventsBatch({"oct"}, october)).ok());
  ASSERT_TRUE(warehouse->Commit(EventsBatch({"nov"}, november)).ok());
  ASSERT_TRUE(warehouse->Commit(EventsBatch({"dec"}, december)).ok());
  EXPECT_EQ(Count(*warehouse,
                  "SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_events'::regclass"),
            3);
  EXPECT_EQ(Count(*warehouse, "SELECT count(*) FROM raw_events_p202511"), 1);
  // A query by station and time reads only the partitions of its range.
  auto plan = warehouse->Query(
      "EXPLAIN SELECT * FROM raw_events WHERE station_id = 'A_101' AND ts_iso >= '2025-11-01Z' "
      "AND ts_iso < '2025-11-02Z'");
  ASSERT_TRUE(plan.ok());
  std::string plan_text;
  for (const auto& row : plan->rows) plan_text += row[0].text + "\n";
  EXPECT_NE(plan_text.find("raw_events_p202511"), std::string::npos) << plan_text;
  EXPECT_EQ(plan_text.find("raw_events_p202510"), std::string::npos) << plan_text;

  // Old data goes by the partition; its ids stay claimed, so a late redelivery is no new event.
  ASSERT_TRUE(warehouse->Query("DROP TABLE raw_events_p202510").ok());
  EXPECT_EQ(Count(*warehouse, "SELECT count(*) FROM raw_events"), 2);
  auto redelivered = warehouse->Commit(EventsBatch({"oct", "nov"}, october));
  ASSERT_TRUE(redelivered.ok()) << redelivered.status();
  EXPECT_EQ(redelivered->stored, 0u);
  // A new event in the dropped month makes its partition again.
  auto late = warehouse->Commit(EventsBatch({"oct-late"}, october));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->stored, 1u);
  EXPECT_EQ(Count(*warehouse, "SELECT count(*) FROM raw_events_p202510"), 1);
}

TEST(PostgresWarehouse, DeadLettersKeepBytesThatAreNotText) {
  REQUIRE_POSTGRES();
  auto warehouse = FreshWarehouse("bytes");
  ASSERT_TRUE(warehouse);
  Batch batch;
  const std::string payload("\xff\xfe{\"event_id\":\0\"x\"}", 18);
  batch.dead_letters = {DeadLetter{.first_seen = kStart,
                                   .source = "file:\xc3(bad",
                                   .message_id = "1",
                                   .payload = payload,
                                   .reason = "bad_json",
                                   .error = "near \xff here"}};
  auto committed = warehouse->Commit(batch);
  ASSERT_TRUE(committed.ok()) << committed.status();
  auto letters = warehouse->ListDeadLetters({});
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].payload, payload);
  EXPECT_EQ((*letters)[0].error, "near \xEF\xBF\xBD here");
  EXPECT_EQ((*letters)[0].first_seen, kStart);
  EXPECT_EQ((*letters)[0].publish_time, 0);
}

}  // namespace
}  // namespace bikestream
