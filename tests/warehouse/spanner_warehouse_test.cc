// The Spanner warehouse's events and dead letters against Google's Spanner emulator: setup,
// exactly once by event_id within a batch, across batches, across parts of a batch and across
// workers, dead letters kept once and resolved.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <tuple>

#include "http/http_client.h"
#include "support/spanner_emulator.h"
#include "warehouse/spanner/spanner_backend.h"

namespace bikestream::spanner {
namespace {

using testing_support::SpannerEmulator;

constexpr TimestampMicros kMonday = 1'728'259'200'000'000;  // 2024-10-07T00:00:00Z.

Event At(std::string id, int minute, std::string station = "S1", int delta = 1) {
  return Event{std::move(id), std::move(station), kMonday + minute * kMicrosPerMinute,
               Kind::kPickup, delta};
}

DeadLetter Letter(std::string message_id, std::string payload, int minute = 0) {
  return DeadLetter{.first_seen = kMonday + minute * kMicrosPerMinute,
                    .source = "test",
                    .message_id = std::move(message_id),
                    .payload = std::move(payload),
                    .reason = "bad_json",
                    .error = "not JSON"};
}

class SpannerWarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_SPANNER(*emulator_);
    options_ = {.client = emulator_->FreshDatabase(), .emulator = true};
    warehouse_ = Open();
    const absl::Status setup = warehouse_->Setup();
    ASSERT_TRUE(setup.ok()) << setup;
  }

  std::unique_ptr<SpannerWarehouse> Open() const {
    return std::make_unique<SpannerWarehouse>(options_, TableNames{});
  }

  std::vector<std::string> StoredIds() {
    std::vector<std::string> ids;
    EXPECT_TRUE(warehouse_->ScanEvents(0, [&](const Event& e) { ids.push_back(e.event_id); }).ok());
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  SpannerEmulator* emulator_ = &testing_support::SharedSpannerEmulator();
  SpannerWarehouseOptions options_;
  std::unique_ptr<SpannerWarehouse> warehouse_;
};

TEST_F(SpannerWarehouseTest, SetupRunsAgainAndReportsATableOfAnotherSchema) {
  EXPECT_TRUE(warehouse_->Setup().ok());
  SpannerWarehouseOptions other = {.client = emulator_->FreshDatabase(), .emulator = true};
  Client client(other.client);
  ASSERT_TRUE(client
                  .CreateDatabase({"CREATE TABLE raw_events (event_id STRING(MAX) NOT NULL, "
                                   "station_id INT64) PRIMARY KEY (event_id)"})
                  .ok());
  const absl::Status refused = SpannerWarehouse(other, TableNames{}).Setup();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("raw_events"), std::string::npos) << refused;
  EXPECT_NE(refused.message().find("station_id"), std::string::npos) << refused;
  // Never altered.
  auto ddl = client.DatabaseDdl();
  ASSERT_TRUE(ddl.ok() && ddl->has_value());
  EXPECT_EQ((*ddl)->size(), 1u);
}

TEST_F(SpannerWarehouseTest, EachEventIsStoredOnceAndTheResultSaysWhichWereNew) {
  Batch first;
  first.events = {At("a", 1), At("b", 2), At("a", 3)};  // "a" twice in one batch.
  auto stored = warehouse_->Commit(first);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->stored, 2u);
  EXPECT_EQ(stored->duplicates, 1u);
  EXPECT_EQ(stored->newly_stored, (std::vector<bool>{true, true, false}));

  Batch second;
  second.events = {At("c", 4), At("b", 2)};
  stored = warehouse_->Commit(second);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->newly_stored, (std::vector<bool>{true, false}));
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"a", "b", "c"}));

  std::vector<Event> scanned;
  ASSERT_TRUE(
      warehouse_
          ->ScanEvents(kMonday + kMicrosPerMinute, [&](const Event& e) { scanned.push_back(e); })
          .ok());
  EXPECT_EQ(scanned, (std::vector<Event>{At("b", 2), At("c", 4)}));
  auto latest = warehouse_->LatestEventTime();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ(**latest, kMonday + 4 * kMicrosPerMinute);
}

TEST_F(SpannerWarehouseTest, ABatchLargerThanOneTransactionIsStoredInPartsExactly) {
  options_.limits.mutations = 3 * kEventInsertMutations;
  warehouse_ = Open();
  Batch batch;
  for (int i = 0; i < 10; ++i) batch.events.push_back(At(fmt::format("e{:02}", i), i));
  batch.events.push_back(At("e03", 3));
  auto stored = warehouse_->Commit(batch);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->stored, 10u);
  EXPECT_EQ(stored->duplicates, 1u);
  EXPECT_FALSE(stored->newly_stored.back());
  EXPECT_EQ(StoredIds().size(), 10u);
}

TEST_F(SpannerWarehouseTest, WorkersCommittingTheSameIdsAtOnceStoreEachOnce) {
  constexpr int kWorkers = 3;
  constexpr int kBatches = 6;
  std::atomic<std::size_t> stored{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      auto warehouse = Open();
      for (int b = 0; b < kBatches; ++b) {
        Batch batch;
        // Every worker sends ids 0..29 of each batch, in its own order.
        for (int i = 0; i < 30; ++i) {
          const int id = (i * (w + 1)) % 30;
          batch.events.push_back(At(fmt::format("b{}-{}", b, id), id));
        }
        auto result = warehouse->Commit(batch);
        if (!result.ok()) {
          ++failures;
          ADD_FAILURE() << result.status();
          continue;
        }
        stored += result->stored;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(stored, 30u * kBatches);  // Each id counted new by exactly one worker.
  EXPECT_EQ(StoredIds().size(), 30u * kBatches);
}

TEST_F(SpannerWarehouseTest, DeadLettersAreKeptOnceWithTheirBytesAndResolvedByAReplay) {
  Batch batch;
  const std::string not_utf8 = "{\"x\": \"\xff\xfe\"";
  batch.dead_letters = {Letter("m1", not_utf8, 1), Letter("m2", "[]", 2),
                        Letter("m1", not_utf8, 1)};
  auto kept = warehouse_->Commit(batch);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->dead_lettered, 3u);  // A redelivered one counts once more...
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  auto letters = warehouse_->ListDeadLetters({});
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 2u);  // ...and is kept once.
  EXPECT_EQ(letters->at(0).payload, not_utf8);
  EXPECT_EQ(letters->at(0).first_seen, kMonday + kMicrosPerMinute);
  EXPECT_LT(letters->at(0).id, letters->at(1).id);

  auto counts = warehouse_->CountDeadLetters(kMicrosPerHour, {kMonday, kMonday + kMicrosPerHour});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(*counts, (std::vector<DeadLetterCount>{{"bad_json", kMonday, 2}}));

  auto resolved = warehouse_->ResolveDeadLetters({At("fixed", 5)}, {letters->at(0).id});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->stored, 1u);
  letters = warehouse_->ListDeadLetters({});
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ(letters->at(0).message_id, "m2");
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"fixed"}));
}

// Each letter is deleted only once every event is stored (commit_parts.h); here the parts are
// five rows each.
TEST_F(SpannerWarehouseTest, AReplayPastOneCommitStoresEveryEventAndResolvesEveryLetter) {
  options_.limits.mutations = 5 * kEventInsertMutations;
  warehouse_ = Open();
  Batch batch;
  for (int i = 0; i < 12; ++i) batch.dead_letters.push_back(Letter(fmt::format("m{:02}", i), "{"));
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  auto letters = warehouse_->ListDeadLetters({});
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 12u);
  std::vector<Event> events;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) {
    events.push_back(At(fmt::format("fixed{:02}", i), i));
    ids.push_back(letters->at(i).id);
  }
  auto resolved = warehouse_->ResolveDeadLetters(events, ids);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->stored, 12u);
  letters = warehouse_->ListDeadLetters({});
  ASSERT_TRUE(letters.ok());
  EXPECT_TRUE(letters->empty()) << letters->size() << " letters left";
  EXPECT_EQ(StoredIds().size(), 12u);
}

// A tick past one commit's mutations is written in pieces of whole features (one feature cut
// too, here), and rewritten in place exactly: a feature without rows now loses its old ones.
TEST_F(SpannerWarehouseTest, ATickPastOneCommitIsWrittenInPiecesAndRewrittenExactly) {
  options_.limits.mutations = 4 * kFeatureRowWriteMutations;
  warehouse_ = Open();
  const std::vector<std::string> names = {"a", "b", "c"};
  auto tick = [](TimestampMicros as_of, std::vector<std::pair<std::string, int>> counts) {
    FeatureTick t{.as_of = as_of};
    for (const auto& [name, stations] : counts) {
      for (int s = 0; s < stations; ++s) {
        t.rows.push_back({fmt::format("S{}", s), name, "1h", double(s), as_of});
      }
    }
    std::sort(t.rows.begin(), t.rows.end(), [](const FeatureRow& x, const FeatureRow& y) {
      return std::tie(x.station_id, x.feature_name) < std::tie(y.station_id, y.feature_name);
    });
    return t;
  };
  const FeatureTick first = tick(kMonday, {{"a", 6}, {"b", 2}, {"c", 1}});
  const FeatureTick next = tick(kMonday + kMicrosPerHour, {{"a", 1}, {"c", 1}});
  ASSERT_TRUE(warehouse_->WriteFeatureTicks(names, {first, next}).ok());
  EXPECT_EQ(warehouse_->StoredFeatures(first.as_of).value(), first.rows);
  EXPECT_EQ(warehouse_->StoredFeatures(next.as_of).value(), next.rows);

  const FeatureTick rewritten = tick(kMonday, {{"a", 5}, {"c", 2}});
  ASSERT_TRUE(warehouse_->WriteFeatureTicks(names, {rewritten}).ok());
  EXPECT_EQ(warehouse_->StoredFeatures(first.as_of).value(), rewritten.rows);
  EXPECT_EQ(warehouse_->StoredFeatures(next.as_of).value(), next.rows);
}

TEST_F(SpannerWarehouseTest, DeadLettersPastOneCommitsBytesGoInPartsAndALongPayloadIsCut) {
  options_.limits.dead_letter_bytes = 5'000;
  warehouse_ = Open();
  Batch batch;
  batch.events = {At("a", 1), At("b", 2)};
  for (int i = 0; i < 20; ++i) {
    batch.dead_letters.push_back(Letter(fmt::format("m{:02}", i), std::string(1'000, 'x')));
  }
  batch.dead_letters.push_back(Letter("m03", std::string(1'000, 'x')));  // Redelivered.
  batch.dead_letters.push_back(Letter("huge", std::string(kMaxPayloadBytes + 10, 'y')));
  // More than one answer carries (4 MiB on the emulator): listed in reads of a few.
  for (int i = 0; i < 5; ++i) {
    batch.dead_letters.push_back(
        Letter(fmt::format("big{}", i), std::string(kMaxPayloadBytes, 'z')));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {  // The same batch again changes nothing.
    auto kept = warehouse_->Commit(batch);
    ASSERT_TRUE(kept.ok()) << kept.status();
    EXPECT_EQ(kept->dead_lettered, 27u);
    EXPECT_EQ(kept->stored, attempt == 0 ? 2u : 0u);
  }
  auto letters = warehouse_->ListDeadLetters({});
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 26u);
  EXPECT_EQ(letters->back().payload, std::string(kMaxPayloadBytes, 'z'));
  const auto huge = std::find_if(letters->begin(), letters->end(),
                                 [](const DeadLetter& l) { return l.message_id == "huge"; });
  ASSERT_NE(huge, letters->end());
  EXPECT_EQ(huge->payload.size(), kMaxPayloadBytes);
  EXPECT_NE(huge->error.find("cut to its first"), std::string::npos) << huge->error;
  // SQL whose answer is past one response fails at once, saying what to do.
  auto whole = warehouse_->Query("SELECT payload FROM dead_letter");
  ASSERT_FALSE(whole.ok());
  EXPECT_NE(whole.status().message().find("select fewer rows"), std::string::npos)
      << whole.status();
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(SpannerWarehouseTest, EventTotalsArePerStationAndKindUpToAnInstant) {
  Batch batch;
  batch.events = {At("a", 1, "S1", 2), At("b", 2, "S1", 5), At("c", 3, "S2", 1),
                  At("d", 9, "S1", 7)};
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  auto totals = warehouse_->EventTotals(kMonday + 5 * kMicrosPerMinute);
  ASSERT_TRUE(totals.ok()) << totals.status();
  std::sort(totals->begin(), totals->end(),
            [](const auto& x, const auto& y) { return x.station_id < y.station_id; });
  ASSERT_EQ(totals->size(), 2u);
  EXPECT_EQ(totals->at(0).station_id, "S1");
  EXPECT_EQ(totals->at(0).totals.count, 2);
  EXPECT_EQ(totals->at(0).totals.sum, 7);
  EXPECT_EQ(totals->at(0).totals.min, 2);
  EXPECT_EQ(totals->at(0).totals.max, 5);
  EXPECT_EQ(totals->at(0).first_ts, kMonday + kMicrosPerMinute);
}

// A client killed in the middle of a read-write transaction leaves it open; the emulator, which
// runs one at a time, must not hold the others off on it.
TEST_F(SpannerWarehouseTest, ATransactionLeftOpenByADeadClientDoesNotWedgeCommits) {
  http::HttpClient http({.timeout = std::chrono::seconds(5), .max_reply_bytes = 1 << 20});
  const std::string database =
      fmt::format("{}/v1/projects/{}/instances/{}/databases/{}", options_.client.endpoint,
                  options_.client.project, options_.client.instance, options_.client.database);
  auto session = http.Send("POST", database + "/sessions", "{}", {});
  ASSERT_TRUE(session.ok() && session->status == 200);
  const std::string session_name = nlohmann::json::parse(session->body)["name"];
  auto begun = http.Send(
      "POST", fmt::format("{}/v1/{}:executeSql", options_.client.endpoint, session_name),
      R"({"sql": "SELECT event_id FROM raw_events", "transaction": {"begin": {"readWrite": {}}}})",
      {});
  ASSERT_TRUE(begun.ok() && begun->status == 200) << (begun.ok() ? begun->body : "");

  // The emulator takes the lock from the transaction holding it at one request in five
  // (its abort_current_transaction_probability, 20): short waits make ~600 tries in 60 s,
  // so this fails by chance with odds of 0.8^600, and otherwise within a few seconds.
  options_.client.aborted = {.initial_backoff = 10 * kMicrosPerMilli,
                             .max_backoff = 100 * kMicrosPerMilli,
                             .max_duration = 60 * kMicrosPerSecond};
  warehouse_ = Open();
  Batch batch;
  batch.events = {At("a", 1)};
  auto stored = warehouse_->Commit(batch);  // The abandoned transaction never commits.
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->stored, 1u);
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace bikestream::spanner
