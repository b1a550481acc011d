// What every warehouse engine promises (warehouse/warehouse.h), run on each engine a test
// binary is built for (support/warehouse_backends.h).
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"

#include "support/events.h"
#include "support/warehouse_backends.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using testing_support::MakeEvent;

DeadLetter MakeDeadLetter(std::string message_id, std::string reason = "bad_json") {
  return DeadLetter{.first_seen = 1,
                    .source = "test",
                    .message_id = std::move(message_id),
                    .payload = "{oops",
                    .reason = std::move(reason),
                    .error = "not valid JSON"};
}

class WarehouseContractTest : public testing_support::BackendTest {
 protected:
  std::int64_t Count(const std::string& table) {
    auto result = warehouse_->Query("SELECT count(*) FROM " + table);
    EXPECT_TRUE(result.ok()) << result.status();
    return std::stoll(result->rows.at(0).at(0).text);
  }
};

TEST_P(WarehouseContractTest, SetupIsIdempotent) {
  EXPECT_TRUE(warehouse_->Setup().ok());
  EXPECT_TRUE(warehouse_->Setup().ok());
}

TEST_P(WarehouseContractTest, StoresEachEventIdOnce) {
  Batch batch;
  batch.events = {MakeEvent("e-1"), MakeEvent("e-2"), MakeEvent("e-1")};
  auto first = warehouse_->Commit(batch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->stored, 2u);
  EXPECT_EQ(first->duplicates, 1u);
  auto again = warehouse_->Commit(batch);  // A redelivery of the whole batch.
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored, 0u);
  EXPECT_EQ(again->duplicates, 3u);
  EXPECT_EQ(Count("raw_events"), 2);
}

TEST_P(WarehouseContractTest, KeepsDeadLettersOncePerSourceAndMessageId) {
  Batch batch;
  batch.dead_letters = {MakeDeadLetter("m1"), MakeDeadLetter("m2")};
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  EXPECT_EQ(Count("dead_letter"), 2);
  auto listed = warehouse_->ListDeadLetters({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].payload, "{oops");
  EXPECT_EQ((*listed)[0].reason, "bad_json");
}

TEST_P(WarehouseContractTest, ListsDeadLettersByReasonAndPage) {
  Batch batch;
  batch.dead_letters = {MakeDeadLetter("a", "bad_json"), MakeDeadLetter("b", "bad_kind"),
                        MakeDeadLetter("c", "bad_json")};
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  auto json = warehouse_->ListDeadLetters({.reason = "bad_json"});
  ASSERT_EQ(json->size(), 2u);
  auto page = warehouse_->ListDeadLetters({.after_id = (*json)[0].id, .limit = 1});
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].message_id, "b");
}

TEST_P(WarehouseContractTest, ResolvingDeadLettersMovesThemAtomically) {
  Batch batch;
  batch.dead_letters = {MakeDeadLetter("a"), MakeDeadLetter("b")};
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  auto letters = *warehouse_->ListDeadLetters({});
  auto resolved = warehouse_->ResolveDeadLetters({MakeEvent("e-fixed")}, {letters[0].id});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->stored, 1u);
  EXPECT_EQ(Count("raw_events"), 1);
  EXPECT_EQ(Count("dead_letter"), 1);
}

TEST_P(WarehouseContractTest, QueryPrintsTimestampsAsIso) {
  Batch batch;
  batch.events = {MakeEvent("e-1")};
  ASSERT_TRUE(warehouse_->Commit(batch).ok());
  auto result = warehouse_->Query("SELECT event_id, ts_iso, delta FROM raw_events");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->columns, (std::vector<std::string>{"event_id", "ts_iso", "delta"}));
  EXPECT_EQ(result->rows[0][1].text, "2025-10-18T16:24:11Z");
  EXPECT_TRUE(result->rows[0][2].is_number);
}

TEST_P(WarehouseContractTest, QueryErrorsAreClear) {
  auto bad = warehouse_->Query("SELEC nonsense");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(absl::AsciiStrToLower(bad.status().ToString()).find("syntax error"), std::string::npos) << bad.status();
  auto two = warehouse_->Query("SELECT 1; SELECT 2");
  EXPECT_FALSE(two.ok());
  EXPECT_NE(two.status().ToString().find("one SQL statement"), std::string::npos);
}

TEST_P(WarehouseContractTest, MissingTablesPointToSetup) {
  auto warehouse = GetParam().open();
  auto result = warehouse->Query("SELECT * FROM raw_events");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().ToString().find("bikestream setup"), std::string::npos);
}

TEST_P(WarehouseContractTest, StationsAreUpsertedKeepingTheLatestDescription) {
  const Station sentrum{.station_id = "623", .name = "7. juni-plassen", .lat = 59.9150596, .lon = 10.7312715,
                        .capacity = 21, .last_updated = 1'666'548'064'000'000};
  const Station no_capacity{.station_id = "2351", .name = "Sogn Studentby", .lat = 59.95208441268443,
                            .lon = 10.727852791011173, .last_updated = 1'666'548'064'000'000};
  ASSERT_TRUE(warehouse_->UpsertStations({sentrum, no_capacity}).ok());
  ASSERT_TRUE(warehouse_->UpsertStations({sentrum}).ok());  // The same description again.
  auto listed = warehouse_->ListStations();
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<Station>{no_capacity, sentrum}));  // In station_id order, every digit kept.

  Station moved = sentrum;
  moved.name = "7. juni-plassen (moved)";
  moved.lat = 59.9151;
  moved.capacity.reset();
  moved.last_updated += kMicrosPerHour;
  Station stale = no_capacity;
  stale.name = "Sogn (an older name)";
  stale.last_updated -= kMicrosPerHour;
  ASSERT_TRUE(warehouse_->UpsertStations({moved, stale}).ok());
  listed = warehouse_->ListStations();
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<Station>{no_capacity, moved}));
  EXPECT_EQ(Count("stations"), 2);
}

INSTANTIATE_TEST_SUITE_P(, WarehouseContractTest, ::testing::ValuesIn(testing_support::BackendsUnderTest()),
                         testing_support::BackendName);

}  // namespace
}  // namespace bikestream
