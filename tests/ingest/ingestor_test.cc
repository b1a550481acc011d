#include "ingest/ingestor.h"

#include <gtest/gtest.h>

#include "ingest/dead_letter_replay.h"

namespace bikestream {
namespace {

constexpr const char* kValid =
    R"({"event_id":"e-1","station_id":"A_101","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":1})";
constexpr const char* kBadDelta =
    R"({"event_id":"e-2","station_id":"A_101","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":0})";

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    warehouse_ = std::move(*OpenWarehouse("sqlite::memory:"));
    ASSERT_TRUE(warehouse_->Setup().ok());
  }
  std::int64_t Count(const std::string& table) {
    return std::stoll(warehouse_->Query("SELECT count(*) FROM " + table)->rows[0][0].text);
  }
  IngestOptions Options(std::size_t batch_size = 100) {
    return IngestOptions{.source = "test", .batch_size = batch_size, .now = [] { return 42; }};
  }
  std::unique_ptr<Warehouse> warehouse_;
};

TEST_F(IngestorTest, NothingIsStoredBeforeACommit) {
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(ingestor.Add({.payload = kValid, .position = 1}).ok());
  EXPECT_EQ(ingestor.pending(), 1u);
  EXPECT_EQ(Count("raw_events"), 0);
  ASSERT_TRUE(ingestor.Flush().ok());
  EXPECT_EQ(Count("raw_events"), 1);
  EXPECT_EQ(ingestor.pending(), 0u);
}

TEST_F(IngestorTest, CommitsWhenTheBatchIsFull) {
  Ingestor ingestor(*warehouse_, Options(2));
  ASSERT_TRUE(ingestor.Add({.payload = kValid, .position = 1}).ok());
  ASSERT_TRUE(ingestor.Add({.payload = kBadDelta, .position = 2}).ok());
  EXPECT_EQ(ingestor.pending(), 0u);
  EXPECT_EQ(ingestor.stats().commits, 1u);
}

TEST_F(IngestorTest, CountsEveryOutcome) {
  Ingestor ingestor(*warehouse_, Options());
  for (const char* payload : {kValid, kValid, kBadDelta, "{"}) {
    ASSERT_TRUE(ingestor.Add({.payload = payload, .position = 1}).ok());
  }
  ASSERT_TRUE(ingestor.Flush().ok());
  const IngestStats& stats = ingestor.stats();
  EXPECT_EQ(stats.received, 4u);
  EXPECT_EQ(stats.stored, 1u);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.dead_lettered, 2u);
}

TEST_F(IngestorTest, DeadLettersKeepPayloadReasonAndMessage) {
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(ingestor.Add({.payload = kBadDelta, .message_id = "msg-7"}).ok());
  ASSERT_TRUE(ingestor.Flush().ok());
  auto letters = *warehouse_->ListDeadLetters({});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].payload, kBadDelta);
  EXPECT_EQ(letters[0].reason, "bad_delta");
  EXPECT_EQ(letters[0].error, "delta 0 is outside 1..1000");
  EXPECT_EQ(letters[0].source, "test");
  EXPECT_EQ(letters[0].message_id, "msg-7");
  EXPECT_EQ(letters[0].first_seen, 42);
}

TEST_F(IngestorTest, TruncatedInputIsTooLong) {
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(ingestor.Add({.payload = "{\"event_id\":\"xxxx", .position = 3, .truncated = true}).ok());
  ASSERT_TRUE(ingestor.Flush().ok());
  EXPECT_EQ((*warehouse_->ListDeadLetters({}))[0].reason, "too_long");
}

TEST_F(IngestorTest, ReReadingTheSameInputAddsNothing) {
  for (int run = 0; run < 2; ++run) {
    Ingestor ingestor(*warehouse_, Options());
    ASSERT_TRUE(ingestor.Add({.payload = kValid, .position = 1}).ok());
    ASSERT_TRUE(ingestor.Add({.payload = "{", .position = 2}).ok());
    ASSERT_TRUE(ingestor.Flush().ok());
  }
  EXPECT_EQ(Count("raw_events"), 1);
  EXPECT_EQ(Count("dead_letter"), 1);
}

TEST(PositionalMessageId, DependsOnPositionAndBytes) {
  EXPECT_EQ(PositionalMessageId(1, "a"), PositionalMessageId(1, "a"));
  EXPECT_NE(PositionalMessageId(1, "a"), PositionalMessageId(2, "a"));
  EXPECT_NE(PositionalMessageId(1, "a"), PositionalMessageId(1, "b"));
}

TEST_F(IngestorTest, ReplayMovesFixedDeadLettersOnceAndKeepsTheRest) {
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(ingestor.Add({.payload = kBadDelta, .position = 1}).ok());
  ASSERT_TRUE(ingestor.Add({.payload = "{", .position = 2}).ok());
  ASSERT_TRUE(ingestor.Flush().ok());

  // Under the default rules nothing changes.
  auto unchanged = ReplayDeadLetters(*warehouse_, std::nullopt);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->still_invalid, 2u);
  EXPECT_EQ(Count("dead_letter"), 2);

  // A user fixes the payload, then replays only that reason.
  ASSERT_TRUE(warehouse_->Query("UPDATE dead_letter SET payload = replace(payload, '\"delta\":0', "
                                "'\"delta\":1') WHERE reason = 'bad_delta'").ok());
  auto replayed = ReplayDeadLetters(*warehouse_, "bad_delta");
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->examined, 1u);
  EXPECT_EQ(replayed->stored, 1u);
  EXPECT_EQ(Count("raw_events"), 1);
  EXPECT_EQ(Count("dead_letter"), 1);
  // A second replay finds nothing to move.
  EXPECT_EQ(ReplayDeadLetters(*warehouse_, "bad_delta")->stored, 0u);
  EXPECT_EQ(Count("raw_events"), 1);
}

TEST_F(IngestorTest, ReplayUnderRelaxedRules) {
  const std::string big =
      R"({"event_id":"e-9","station_id":"A_101","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":5000})";
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(ingestor.Add({.payload = big, .position = 1}).ok());
  ASSERT_TRUE(ingestor.Flush().ok());
  auto replayed = ReplayDeadLetters(*warehouse_, std::nullopt, ValidationRules{.max_delta = 10'000});
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->stored, 1u);
  EXPECT_EQ(Count("dead_letter"), 0);
}

}  // namespace
}  // namespace bikestream
