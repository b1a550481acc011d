#include "ingest/ingestor.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "ingest/dead_letter_replay.h"
#include "ingest/staged_ingest.h"
#include "warehouse/warehouse.h"

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

Event MadeEvent(std::string event_id, std::string station_id, std::int32_t delta) {
  return Event{.event_id = std::move(event_id),
               .station_id = std::move(station_id),
               .ts = 1'760'804'651'000'000,
               .kind = Kind::kDropoff,
               .delta = delta};
}

TEST_F(IngestorTest, AnEventMadeInProcessIsCheckedAsAParsedOneWouldBe) {
  Ingestor ingestor(*warehouse_, Options());
  const Event bad_station = MadeEvent("oslo:a b:1", "a b", 2);
  for (const Event& event :
       {MadeEvent("oslo:407:1", "407", 3), bad_station, MadeEvent("oslo:407:2", "407", 5000)}) {
    ASSERT_TRUE(ingestor.AddEvent(event).ok());
  }
  ASSERT_TRUE(ingestor.Flush().ok());
  EXPECT_EQ(ingestor.stats().received, 3u);
  EXPECT_EQ(ingestor.stats().stored, 1u);
  EXPECT_EQ(ingestor.stats().dead_lettered, 2u);
  auto letters = *warehouse_->ListDeadLetters({.reason = "bad_station_id"});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].message_id, "event:oslo:a b:1");
  EXPECT_EQ(letters[0].payload, ToJson(bad_station));
  EXPECT_EQ(letters[0].source, "test");
  letters = *warehouse_->ListDeadLetters({.reason = "bad_delta"});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].error, "delta 5000 is outside 1..1000");
}

TEST_F(IngestorTest, TruncatedInputIsTooLong) {
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(
      ingestor.Add({.payload = "{\"event_id\":\"xxxx", .position = 3, .truncated = true}).ok());
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

TEST_F(IngestorTest, AnOverlongMessageIsKeptUpToTheLimit) {
  // A 3 MiB message whose start is an event: the dead letter keeps the first 1 MiB, as
  // docs/events.md says, not the whole message.
  const std::string huge = std::string(kValid).substr(0, 20) + std::string(3 << 20, 'x');
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(ingestor.Add({.payload = huge, .message_id = "m"}).ok());
  ASSERT_TRUE(ingestor.Flush().ok());
  auto letters = *warehouse_->ListDeadLetters({});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "too_long");
  EXPECT_EQ(letters[0].payload.size(), std::size_t{1} << 20);
  EXPECT_EQ(letters[0].payload, huge.substr(0, std::size_t{1} << 20));
}

TEST_F(IngestorTest, AMessageTheSourceCouldNotDecodeIsBadEncoding) {
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(
      ingestor.Add({.payload = kValid, .message_id = "m", .decode_error = "data is not base64"})
          .ok());
  ASSERT_TRUE(ingestor.Flush().ok());
  auto letters = *warehouse_->ListDeadLetters({});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "bad_encoding");
  EXPECT_EQ(letters[0].error, "data is not base64");
  EXPECT_EQ(letters[0].payload, kValid);
  EXPECT_EQ(Count("raw_events"), 0);
}

std::string EventAt(int id, const char* station) {
  return fmt::format(
      R"({{"event_id":"e-{}","station_id":"{}","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":1}})",
      id, station);
}

// The table's owner made the engine refuse a row (a trigger here; a CHECK constraint on
// PostgreSQL): before, the whole batch failed on every retry and nothing more was stored.
TEST_F(IngestorTest, ARowTheWarehouseRefusesIsDeadLetteredAndTheRestOfItsBatchStored) {
  ASSERT_TRUE(
      warehouse_
          ->Query("CREATE TRIGGER closed BEFORE INSERT ON raw_events WHEN NEW.station_id = 'SHUT' "
                  "BEGIN SELECT RAISE(ABORT, 'station SHUT is closed'); END")
          .ok());
  for (int run = 0; run < 2; ++run) {  // The second run finds everything in place.
    Ingestor ingestor(*warehouse_, Options());
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(ingestor
                      .Add({.payload = EventAt(i, i == 7 || i == 30 ? "SHUT" : "A_1"),
                            .position = std::uint64_t(i)})
                      .ok());
    }
    ASSERT_TRUE(ingestor.Add({.payload = kBadDelta, .position = 99}).ok());
    ASSERT_TRUE(ingestor.Flush().ok());
    EXPECT_EQ(ingestor.pending(), 0u);
    if (run == 0) {
      EXPECT_EQ(ingestor.stats().stored, 38u);
      EXPECT_EQ(ingestor.stats().dead_lettered, 3u);
    }
  }
  EXPECT_EQ(Count("raw_events"), 38);
  auto refused = *warehouse_->ListDeadLetters({.reason = "refused_by_warehouse"});
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].message_id, "event:e-7");
  EXPECT_EQ(refused[1].message_id, "event:e-30");
  EXPECT_NE(refused[0].error.find("station SHUT is closed"), std::string::npos) << refused[0].error;
  EXPECT_EQ(refused[0].payload, EventAt(7, "SHUT"));
  EXPECT_EQ(Count("dead_letter"), 3);
}

TEST_F(IngestorTest, AnErrorThatIsNotARowsStillFailsTheBatch) {
  ASSERT_TRUE(warehouse_->Query("DROP TABLE raw_events").ok());
  Ingestor ingestor(*warehouse_, Options());
  ASSERT_TRUE(ingestor.Add({.payload = kValid, .position = 1}).ok());
  EXPECT_FALSE(ingestor.Flush().ok());
  EXPECT_EQ(ingestor.pending(), 1u);
  EXPECT_EQ(Count("dead_letter"), 0);
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
  ASSERT_TRUE(warehouse_
                  ->Query("UPDATE dead_letter SET payload = replace(payload, '\"delta\":0', "
                          "'\"delta\":1') WHERE reason = 'bad_delta'")
                  .ok());
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
  auto replayed =
      ReplayDeadLetters(*warehouse_, std::nullopt, ValidationRules{.max_delta = 10'000});
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->stored, 1u);
  EXPECT_EQ(Count("dead_letter"), 0);
}

// Records what each commit reported, in the order the observer hears it.
class RecordingObserver : public CommitObserver {
 public:
  void OnCommit(const std::vector<Event>& events, const std::vector<bool>& newly_stored) override {
    for (std::size_t i = 0; i < events.size(); ++i) {
      ids.push_back(events[i].event_id);
      if (newly_stored[i]) ++newly;
    }
  }
  std::vector<std::string> ids;
  std::size_t newly = 0;
};

std::string EventWithId(int id) {
  return fmt::format(
      R"({{"event_id":"e-{}","station_id":"A_101","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":1}})",
      id);
}

// Several connections to one SQLite file: the engine serializes them, which is enough to check
// the bookkeeping (PostgreSQL, where they do run at once, is checked in postgres_test). The
// first is the Ingestor's own, the other two commit.
class ConcurrentWritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        std::filesystem::temp_directory_path() / fmt::format("bikestream-writers-{}.db", getpid());
    std::filesystem::remove(path_);
    for (int i = 0; i < 3; ++i)
      writers_.push_back(std::move(*OpenWarehouse("sqlite:" + path_.string())));
    ASSERT_TRUE(writers_[0]->Setup().ok());
  }
  void TearDown() override {
    writers_.clear();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  IngestOptions Options(CommitObserver* observer) {
    return IngestOptions{.source = "test",
                         .batch_size = 250,
                         .observer = observer,
                         .concurrent_writers = {writers_[1].get(), writers_[2].get()}};
  }
  std::int64_t Count() {
    return std::stoll(writers_[0]->Query("SELECT count(*) FROM raw_events")->rows[0][0].text);
  }

  std::filesystem::path path_;
  std::vector<std::unique_ptr<Warehouse>> writers_;
};

TEST_F(ConcurrentWritersTest, StoreEachEventOnceAndReportCommitsInOrder) {
  RecordingObserver observer;
  Ingestor ingestor(*writers_[0], Options(&observer));
  std::vector<std::string> sent;
  for (int i = 0; i < 5000; ++i) {
    const int id = i % 3000;  // The last 2000 repeat earlier batches' events.
    sent.push_back(fmt::format("e-{}", id));
    ASSERT_TRUE(ingestor.Add({.payload = EventWithId(id), .position = std::uint64_t(i)}).ok());
  }
  ASSERT_TRUE(ingestor.Flush().ok());
  EXPECT_EQ(ingestor.pending(), 0u);
  EXPECT_EQ(ingestor.stats().stored, 3000u);
  EXPECT_EQ(ingestor.stats().duplicates, 2000u);
  EXPECT_EQ(ingestor.stats().commits, 20u);
  EXPECT_EQ(observer.ids, sent);
  EXPECT_EQ(observer.newly, 3000u);
  EXPECT_EQ(Count(), 3000);
}

TEST_F(ConcurrentWritersTest, AFailedCommitStaysForTheNextFlush) {
  for (auto& writer : writers_) ASSERT_TRUE(writer->Query("PRAGMA busy_timeout = 20").ok());
  auto blocker = std::move(*OpenWarehouse("sqlite:" + path_.string()));
  ASSERT_TRUE(blocker->Query("BEGIN EXCLUSIVE").ok());  // Every commit fails while it holds.
  Ingestor ingestor(*writers_[0], Options(nullptr));
  for (int i = 0; i < 1000; ++i) {
    (void)ingestor.Add(
        {.payload = EventWithId(i), .position = std::uint64_t(i)});  // Errors come back later.
  }
  EXPECT_FALSE(ingestor.Flush().ok());
  EXPECT_EQ(ingestor.pending(), 1000u);
  ASSERT_TRUE(blocker->Query("COMMIT").ok());
  ASSERT_TRUE(ingestor.Flush().ok());
  EXPECT_EQ(ingestor.pending(), 0u);
  EXPECT_EQ(ingestor.stats().stored, 1000u);
  EXPECT_EQ(Count(), 1000);
}

TEST_F(ConcurrentWritersTest, ARefusedRowIsSetAsideAndTheRestStoredInOrder) {
  ASSERT_TRUE(
      writers_[0]
          ->Query("CREATE TRIGGER closed BEFORE INSERT ON raw_events WHEN NEW.event_id = 'e-777' "
                  "BEGIN SELECT RAISE(ABORT, 'refused'); END")
          .ok());
  RecordingObserver observer;
  Ingestor ingestor(*writers_[0], Options(&observer));
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(ingestor.Add({.payload = EventWithId(i), .position = std::uint64_t(i)}).ok());
  ASSERT_TRUE(ingestor.Flush().ok());
  EXPECT_EQ(ingestor.pending(), 0u);
  EXPECT_EQ(ingestor.stats().stored, 999u);
  EXPECT_EQ(ingestor.stats().dead_lettered, 1u);
  EXPECT_EQ(observer.newly, 999u);
  EXPECT_EQ(Count(), 999);
  auto refused = *writers_[0]->ListDeadLetters({.reason = "refused_by_warehouse"});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].message_id, "event:e-777");
}

// The streaming runner commits a batch on a writer of its own, then settles the result here.
TEST_F(ConcurrentWritersTest, ABatchCommittedElsewhereIsSettledRefusedRowsSetAside) {
  ASSERT_TRUE(
      writers_[0]
          ->Query("CREATE TRIGGER closed BEFORE INSERT ON raw_events WHEN NEW.event_id = 'e-77' "
                  "BEGIN SELECT RAISE(ABORT, 'refused'); END")
          .ok());
  RecordingObserver observer;
  Ingestor ingestor(*writers_[0], {.source = "test", .batch_size = 1000, .observer = &observer});
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(ingestor.Add({.payload = EventWithId(i), .position = std::uint64_t(i)}).ok());
  const Batch batch = ingestor.TakeStaged();
  EXPECT_EQ(batch.events.size(), 100u);
  EXPECT_EQ(ingestor.pending(), 0u);

  // An error that is not a refused row stands, and nothing is counted.
  EXPECT_EQ(ingestor.Settle(batch, absl::UnavailableError("away")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ingestor.stats().commits, 0u);
  EXPECT_TRUE(observer.ids.empty());

  const absl::StatusOr<CommitResult> committed = writers_[1]->Commit(batch);
  ASSERT_TRUE(IsRowRefused(committed.status())) << committed.status();
  ASSERT_TRUE(ingestor.Settle(batch, committed).ok());
  EXPECT_EQ(ingestor.stats().stored, 99u);
  EXPECT_EQ(ingestor.stats().dead_lettered, 1u);
  EXPECT_EQ(observer.newly, 99u);
  EXPECT_EQ(Count(), 99);

  // A batch that committed is counted as it is.
  for (int i = 100; i < 110; ++i)
    ASSERT_TRUE(ingestor.Add({.payload = EventWithId(i), .position = std::uint64_t(i)}).ok());
  const Batch next = ingestor.TakeStaged();
  ASSERT_TRUE(ingestor.Settle(next, writers_[2]->Commit(next)).ok());
  EXPECT_EQ(ingestor.stats().stored, 109u);
  EXPECT_EQ(observer.ids.size(), 109u);
  EXPECT_EQ(Count(), 109);
}

std::vector<Event> MadeEvents(int first, int count) {
  std::vector<Event> events;
  for (int id = first; id < first + count; ++id)
    events.push_back(MadeEvent(fmt::format("e-{}", id), "A_101", 1));
  return events;
}

// StagedIngest (`gbfs --to warehouse`): a commit that fails on the writer is found by a later
// Stage(), which from then on stages nothing while the warehouse refuses; each hand-off handed
// again once it is back is stored once, and every hand-off accepted before is stored too.
TEST_F(ConcurrentWritersTest, StagedEventsAreStoredOnceThroughAnOutage) {
  for (auto& writer : writers_) ASSERT_TRUE(writer->Query("PRAGMA busy_timeout = 20").ok());
  auto blocker = std::move(*OpenWarehouse("sqlite:" + path_.string()));
  ASSERT_TRUE(blocker->Query("BEGIN EXCLUSIVE").ok());
  StagedIngest ingest(*writers_[0], *writers_[1], {.source = "test"});
  int next = 0;  // The first event of the next hand-off; those before it were accepted.
  absl::Status staged = absl::OkStatus();
  for (int tries = 0; tries < 400 && staged.ok(); ++tries) {
    staged = ingest.Stage(MadeEvents(next, 100));
    if (staged.ok()) next += 100;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(staged.ok());  // The writer's failed commit, found without a Flush().
  EXPECT_GT(next, 0);
  EXPECT_FALSE(ingest.Stage(MadeEvents(next, 100)).ok());
  ASSERT_TRUE(blocker->Query("COMMIT").ok());
  for (; next < 5000; next += 100) ASSERT_TRUE(ingest.Stage(MadeEvents(next, 100)).ok());
  ASSERT_TRUE(ingest.Flush().ok());
  EXPECT_EQ(ingest.pending(), 0u);
  EXPECT_EQ(ingest.stats().received, 5000u);
  EXPECT_EQ(ingest.stats().stored, 5000u);
  EXPECT_EQ(ingest.stats().duplicates, 0u);  // No hand-off was staged twice.
  EXPECT_EQ(Count(), 5000);
}

}  // namespace
}  // namespace bikestream
