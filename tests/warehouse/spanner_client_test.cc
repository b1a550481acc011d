// The Spanner REST client against Google's Spanner emulator, started by this binary.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/limits.h"
#include "http/http_client.h"
#include "support/spanner_emulator.h"
#include "warehouse/spanner/client.h"

namespace bikestream::spanner {
namespace {

using testing_support::SpannerEmulator;
using json = nlohmann::json;

const std::vector<std::string> kDdl = {
    "CREATE TABLE events (event_id STRING(MAX) NOT NULL, ts TIMESTAMP NOT NULL, delta INT64 NOT "
    "NULL) PRIMARY KEY (event_id)",
    "CREATE TABLE counters (name STRING(MAX) NOT NULL, value INT64 NOT NULL) PRIMARY KEY (name)"};

class SpannerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_SPANNER(*emulator_);
    options_ = emulator_->FreshDatabase();
    client_ = std::make_unique<Client>(options_);
    ASSERT_TRUE(client_->CreateDatabase(kDdl).ok());
  }

  // The ids stored in `events`, in order.
  std::vector<std::string> StoredIds() {
    auto result = client_->Query("SELECT event_id FROM events ORDER BY event_id");
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<std::string> ids;
    if (result.ok()) {
      for (const auto& row : result->rows) ids.push_back(row[0].get<std::string>());
    }
    return ids;
  }

  // Stores the ids not stored yet, by a keyed read and insert mutations in one transaction;
  // returns the ones it stored.
  absl::StatusOr<std::vector<std::string>> InsertNew(const std::vector<std::string>& ids) {
    std::vector<std::string> stored;
    auto committed = client_->RunTransaction([&](Transaction& t) -> absl::Status {
      stored.clear();
      auto existing = t.ExecuteSql("SELECT event_id FROM events WHERE event_id IN UNNEST(@ids)",
                                   {{"ids", StringArray(ids)}});
      if (!existing.ok()) return existing.status();
      std::set<std::string> present;
      for (const auto& row : existing->rows) present.insert(row[0].get<std::string>());
      Mutation insert{.table = "events", .columns = {"event_id", "ts", "delta"}};
      for (const std::string& id : ids) {
        if (present.contains(id)) continue;
        insert.rows.push_back({id, Timestamp(1'728'259'200'000'000).value, Int64(1).value});
        stored.push_back(id);
      }
      if (!insert.rows.empty()) t.Buffer(std::move(insert));
      return absl::OkStatus();
    });
    if (!committed.ok()) return committed.status();
    return stored;
  }

  SpannerEmulator* emulator_ = &testing_support::SharedSpannerEmulator();
  ClientOptions options_;
  std::unique_ptr<Client> client_;
};

TEST_F(SpannerClientTest, ADatabaseIsCreatedOnceAndItsDdlReadsBack) {
  auto ddl = client_->DatabaseDdl();
  ASSERT_TRUE(ddl.ok()) << ddl.status();
  ASSERT_TRUE(ddl->has_value());
  ASSERT_EQ((*ddl)->size(), 2u);
  EXPECT_NE((*ddl)->at(0).find("CREATE TABLE events"), std::string::npos);
  EXPECT_EQ(client_->CreateDatabase(kDdl).code(), absl::StatusCode::kAlreadyExists);

  ClientOptions missing = emulator_->FreshDatabase();
  auto none = Client(missing).DatabaseDdl();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(client_->UpdateDdl({"CREATE INDEX events_by_ts ON events (ts)"}).ok());
  EXPECT_EQ((*client_->DatabaseDdl())->size(), 3u);
}

TEST_F(SpannerClientTest, MutationsCommitAndAStrongReadSeesThemWithTheirTypes) {
  auto committed = client_->RunTransaction([](Transaction& t) {
    t.Buffer(
        {.table = "events",
         .columns = {"event_id", "ts", "delta"},
         .rows = {{"a", "2024-10-07T00:00:00.000001Z", "3"}, {"b", "2024-10-07T00:00:01Z", "-2"}}});
    return absl::OkStatus();
  });
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_GT(*committed, 1'728'259'200'000'000);

  auto rows = client_->Query("SELECT event_id, ts, delta FROM events WHERE delta < @limit",
                             {{"limit", Int64(0)}});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"event_id", "ts", "delta"}));
  EXPECT_EQ(rows->types, (std::vector<std::string>{"STRING", "TIMESTAMP", "INT64"}));
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(*TimestampOf(rows->rows[0][1]), 1'728'259'201'000'000);
  EXPECT_EQ(*Int64Of(rows->rows[0][2]), -2);
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(SpannerClientTest, AKeyedReadThenInsertsStoresEachIdOnceAndSaysWhichWereNew) {
  auto first = InsertNew({"a", "b", "c"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, (std::vector<std::string>{"a", "b", "c"}));
  auto second = InsertNew({"c", "d", "a"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, (std::vector<std::string>{"d"}));
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(SpannerClientTest, TransactionsThatConflictAreRunAgainUntilEachCommittedOnce) {
  ASSERT_TRUE(
      client_
          ->RunTransaction([](Transaction& t) {
            t.Buffer({.table = "counters", .columns = {"name", "value"}, .rows = {{"n", "0"}}});
            return absl::OkStatus();
          })
          .ok());
  auto add_one = [&] {
    return client_->RunTransaction([](Transaction& t) -> absl::Status {
      auto row = t.ExecuteSql("SELECT value FROM counters WHERE name = 'n'");
      if (!row.ok()) return row.status();
      const std::int64_t value = *Int64Of(row->rows.at(0).at(0));
      t.Buffer({.kind = Mutation::Kind::kInsertOrUpdate,
                .table = "counters",
                .columns = {"name", "value"},
                .rows = {{"n", std::to_string(value + 1)}}});
      return absl::OkStatus();
    });
  };
  constexpr int kEach = 15;
  std::vector<absl::Status> failures;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (auto done = add_one(); !done.ok()) {
          absl::MutexLock lock(&mu);
          failures.push_back(done.status());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  auto value = client_->Query("SELECT value FROM counters WHERE name = 'n'");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*Int64Of(value->rows.at(0).at(0)), 3 * kEach);
}

TEST_F(SpannerClientTest, ATransactionAbortedAgainAndAgainGivesUpInTimeSayingWhy) {
  options_.aborted = {.initial_backoff = 10 * kMicrosPerMilli,
                      .max_backoff = 50 * kMicrosPerMilli,
                      .max_duration = 500 * kMicrosPerMilli};
  Client client(options_);
  int runs = 0;
  auto committed = client.RunTransaction([&](Transaction&) {
    ++runs;
    return absl::AbortedError("Transaction 7 aborted due to active transaction 6");
  });
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().code(), absl::StatusCode::kAborted);
  EXPECT_GT(runs, 2);
  EXPECT_NE(committed.status().message().find("aborted again and again for 0.5 s"),
            std::string::npos)
      << committed.status();
  EXPECT_NE(committed.status().message().find("active transaction 6"), std::string::npos)
      << committed.status();
}

TEST_F(SpannerClientTest, AnErrorInTheBodyRollsBackWhatItDidAndIsReturned) {
  auto committed = client_->RunTransaction([](Transaction& t) -> absl::Status {
    auto inserted = t.ExecuteSql(
        "INSERT INTO events (event_id, ts, delta) VALUES ('x', CURRENT_TIMESTAMP(), 1)");
    if (!inserted.ok()) return inserted.status();
    EXPECT_EQ(inserted->rows_changed, 1);
    return absl::InvalidArgumentError("changed my mind");
  });
  EXPECT_EQ(committed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(StoredIds().empty());
  // And the session is fine for the next transaction.
  ASSERT_TRUE(InsertNew({"y"}).ok());
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"y"}));
}

TEST_F(SpannerClientTest, ABadStatementIsSpannersErrorNamingTheCall) {
  auto rows = client_->Query("SELECT nope FROM events");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("Spanner executeSql"), std::string::npos) << rows.status();
  EXPECT_NE(rows.status().message().find("nope"), std::string::npos) << rows.status();
}

TEST_F(SpannerClientTest, TheClientDeletesItsSessionsWhenItGoes) {
  ASSERT_TRUE(InsertNew({"a"}).ok());
  ASSERT_EQ(StoredIds().size(), 1u);
  client_.reset();
  http::HttpClient http({.timeout = std::chrono::seconds(5), .max_reply_bytes = limits::kApiReply});
  auto listed = http.Send(
      "GET",
      fmt::format("{}/v1/projects/{}/instances/{}/databases/{}/sessions", options_.endpoint,
                  options_.project, options_.instance, options_.database),
      "", {});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->status, 200) << listed->body;
  const json sessions = json::parse(listed->body);
  EXPECT_TRUE(!sessions.contains("sessions") || sessions["sessions"].empty()) << listed->body;
}

}  // namespace
}  // namespace bikestream::spanner
