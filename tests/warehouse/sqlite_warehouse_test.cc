// What is particular to the SQLite engine: its URLs, its file, its locking.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <random>
#include <set>

#include "event/timestamp.h"
#include "support/events.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using testing_support::MakeEvent;

TEST(SqliteWarehouse, UnknownUrlsNameTheAcceptedForms) {
  auto opened = OpenWarehouse("mysql://localhost/db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().ToString().find("sqlite:PATH"), std::string::npos);
}

TEST(SqliteWarehouse, MustExistRefusesToCreateAFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bikestream-missing-" + std::to_string(getpid()) + ".db");
  auto opened = OpenWarehouse("sqlite:" + path.string(), {}, OpenMode::kMustExist);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(opened.status().ToString().find("bikestream setup"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SqliteWarehouse, UnopenablePathSaysWhatToCheck) {
  auto opened = OpenWarehouse("sqlite:/nonexistent-dir/x/bikestream.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().ToString().find("directory exists"), std::string::npos);
}

TEST(SqliteWarehouse, ADirectoryForAPathSaysToNameAFileInIt) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bikestream-dir-" + std::to_string(getpid()) + ".db");
  std::filesystem::create_directories(dir);
  auto opened = OpenWarehouse("sqlite:" + dir.string());
  std::filesystem::remove(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().ToString().find("is a directory"), std::string::npos)
      << opened.status();
  EXPECT_NE(opened.status().ToString().find(dir.string() + "/bikestream.db"), std::string::npos)
      << opened.status();
}

// Before, `setup` said "tables ready" on a file it could not write, and ingest failed with
// only "attempt to write a readonly database".
TEST(SqliteWarehouse, AReadOnlyFileIsRefusedForWritingAndStillRead) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bikestream-ro-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  {
    auto warehouse = *OpenWarehouse("sqlite:" + path.string());
    ASSERT_TRUE(warehouse->Setup().ok());
    Batch batch;
    batch.events = {MakeEvent("e-1")};
    ASSERT_TRUE(warehouse->Commit(batch).ok());
  }
  // As root, permissions do not stop a write; the immutable flag does.
  const bool immutable =
      getuid() == 0 && std::system(("chattr +i '" + path.string() + "' 2>/dev/null").c_str()) == 0;
  if (!immutable) std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  auto for_writing = OpenWarehouse("sqlite:" + path.string());
  auto for_reading = OpenWarehouse("sqlite:" + path.string(), {}, OpenMode::kMustExist);
  const bool read_ok = for_reading.ok();
  // The 15-minute totals are summed by their first reader, which must be able to write.
  absl::Status totals = absl::UnknownError("not read");
  if (read_ok) totals = (*for_reading)->StationBuckets("A_1", {0, 1}).status();
  for_reading = absl::UnknownError("closed");
  if (immutable) {
    ASSERT_EQ(std::system(("chattr -i '" + path.string() + "'").c_str()), 0);
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  if (getuid() == 0 && !immutable)
    GTEST_SKIP() << "root without chattr: the file cannot be made read-only here";
  ASSERT_FALSE(for_writing.ok());
  EXPECT_EQ(for_writing.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(for_writing.status().ToString().find("read-only"), std::string::npos)
      << for_writing.status();
  EXPECT_NE(for_writing.status().ToString().find("chmod u+w"), std::string::npos)
      << for_writing.status();
  EXPECT_TRUE(read_ok);
  EXPECT_EQ(totals.code(), absl::StatusCode::kFailedPrecondition) << totals;
  EXPECT_NE(totals.ToString().find("chmod u+w"), std::string::npos) << totals;
}

// Two processes opening a new warehouse file at once (`gbfs --warehouse W | ingest --warehouse
// W`): turning the file to WAL needs it alone for a moment, and SQLite refuses the other at once
// rather than have it wait (it did, about one pair in two). Threads of one process lock the file as
// processes do.
TEST(SqliteWarehouse, TwoOpeningANewFileAtOnceBothSucceed) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bikestream-busy-" + std::to_string(getpid()) + ".db");
  const auto remove = [&] {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(path.string() + suffix);
  };
  for (int round = 0; round < 20; ++round) {
    remove();
    auto open = [&] {
      auto warehouse = OpenWarehouse("sqlite:" + path.string());
      return warehouse.ok() ? (*warehouse)->Setup() : warehouse.status();
    };
    auto first = std::async(std::launch::async, open);
    auto second = std::async(std::launch::async, open);
    const absl::Status a = first.get();
    const absl::Status b = second.get();
    ASSERT_TRUE(a.ok()) << "round " << round << ": " << a;
    ASSERT_TRUE(b.ok()) << "round " << round << ": " << b;
  }
  remove();
}

TEST(SqliteWarehouse, TableNamesAreCheckedBeforeUse) {
  for (const TableNames& names :
       {TableNames{.raw_events = "raw events"}, TableNames{.raw_events = "1raw"},
        TableNames{.dead_letter = "x\"; DROP TABLE y; --"},
        TableNames{.raw_events = std::string(129, 'r')},
        TableNames{.station_features = "raw_events"}}) {
    auto opened = OpenWarehouse("sqlite::memory:", names);
    ASSERT_FALSE(opened.ok()) << names.raw_events;
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(
      OpenWarehouse("sqlite::memory:", {.raw_events = "Raw_2025", .station_features = "_f"}).ok());
}

TEST(SqliteWarehouse, FailedCommitStoresNothingAndCanBeRetried) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bikestream-retry-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  auto writer = *OpenWarehouse("sqlite:" + path.string());
  ASSERT_TRUE(writer->Setup().ok());
  // Another connection holds the write lock: the commit fails after the busy timeout...
  auto blocker = *OpenWarehouse("sqlite:" + path.string());
  ASSERT_TRUE(blocker->Query("PRAGMA busy_timeout = 0").ok());
  ASSERT_TRUE(blocker->Query("BEGIN IMMEDIATE").ok());
  ASSERT_TRUE(writer->Query("PRAGMA busy_timeout = 50").ok());
  Batch batch;
  batch.events = {MakeEvent("e-1"), MakeEvent("e-2")};
  auto failed = writer->Commit(batch);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  // ...and once the lock is gone the same batch commits in full.
  ASSERT_TRUE(blocker->Query("ROLLBACK").ok());
  auto retried = writer->Commit(batch);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->stored, 2u);
  std::filesystem::remove(path);
}

// A warehouse made before the activity table existed gains it at its next Setup(), and the
// next read sums raw_events into it: the same buckets as if it had always been kept.
TEST(SqliteWarehouse, AMissingActivityTableIsRebuiltFromRawEvents) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch batch;
  for (int i = 0; i < 50; ++i) {
    batch.events.push_back(Event{"e-" + std::to_string(i), i % 2 ? "A" : "B",
                                 1'728'259'200'000'000 + i * kMicrosPerMinute,
                                 i % 3 ? Kind::kPickup : Kind::kDropoff, 1 + i % 4});
  }
  ASSERT_TRUE(warehouse->Commit(batch).ok());
  const TimestampMicros day = 24 * kMicrosPerHour;
  auto kept = warehouse->StationBuckets("A", {1'728'259'200'000'000, 1'728'259'200'000'000 + day});
  auto busiest =
      warehouse->BusiestStations({1'728'259'200'000'000, 1'728'259'200'000'000 + day}, 5);
  ASSERT_TRUE(kept.ok() && busiest.ok());
  ASSERT_EQ(kept->size(), 4u);  // 50 minutes: four buckets.

  ASSERT_TRUE(warehouse->Query("DROP TABLE raw_events_activity").ok());
  ASSERT_TRUE(warehouse->Setup().ok());
  EXPECT_EQ(*warehouse->StationBuckets("A", {1'728'259'200'000'000, 1'728'259'200'000'000 + day}),
            *kept);
  EXPECT_EQ(*warehouse->BusiestStations({1'728'259'200'000'000, 1'728'259'200'000'000 + day}, 5),
            *busiest);
  ASSERT_TRUE(warehouse->Setup().ok());  // Again: not summed twice.
  EXPECT_EQ(*warehouse->StationBuckets("A", {1'728'259'200'000'000, 1'728'259'200'000'000 + day}),
            *kept);
}

// The totals are summed by their readers from a mark on (docs/adr/0008); a commit adds only the
// events before the mark. Whatever the order of commits and reads, each stored event is counted
// once: the totals equal raw_events counted with plain SQL.
constexpr TimestampMicros kMonday = 1'728'259'200'000'000;  // 2024-10-07T00:00:00Z.

Event EventAt(const std::string& id, int station, TimestampMicros ts) {
  return Event{id, "S" + std::to_string(station), ts, station % 2 ? Kind::kPickup : Kind::kDropoff,
               1 + station % 3};
}

// Every station's totals of the day, as the totals have them and as raw_events does.
std::pair<std::vector<std::string>, std::vector<std::string>> TotalsAndRawCounts(
    Warehouse& warehouse) {
  std::vector<std::string> totals;
  auto busiest = warehouse.BusiestStations({kMonday, kMonday + 24 * kMicrosPerHour}, SIZE_MAX);
  EXPECT_TRUE(busiest.ok()) << busiest.status();
  for (const auto& station : *busiest) {
    auto buckets =
        warehouse.StationBuckets(station.station_id, {kMonday, kMonday + 24 * kMicrosPerHour});
    EXPECT_TRUE(buckets.ok()) << buckets.status();
    for (const auto& bucket : *buckets) {
      totals.push_back(station.station_id + " " + std::to_string(bucket.start) + " " +
                       std::to_string(bucket.activity.pickups) + " " +
                       std::to_string(bucket.activity.pickup_bikes) + " " +
                       std::to_string(bucket.activity.dropoffs) + " " +
                       std::to_string(bucket.activity.dropoff_bikes));
    }
  }
  std::sort(totals.begin(), totals.end());
  auto raw = warehouse.Query(
      "SELECT station_id || ' ' || (ts_iso - ts_iso % 900000000) || ' ' || sum(kind = 'pickup') || "
      "' ' || "
      "sum(CASE WHEN kind = 'pickup' THEN delta ELSE 0 END) || ' ' || sum(kind = 'dropoff') || ' ' "
      "|| "
      "sum(CASE WHEN kind = 'dropoff' THEN delta ELSE 0 END) FROM main.raw_events WHERE "
      "typeof(ts_iso) = 'integer' "
      "GROUP BY station_id, ts_iso - ts_iso % 900000000");
  EXPECT_TRUE(raw.ok()) << raw.status();
  std::vector<std::string> counted;
  for (const auto& row : raw->rows) counted.push_back(row[0].text);
  std::sort(counted.begin(), counted.end());
  return {totals, counted};
}

TEST(SqliteWarehouse, TotalsCountEachEventOnceWhateverTheOrderOfCommitsAndReads) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  std::mt19937 random(7);
  std::set<std::string> stored;
  int next_id = 0;
  for (int round = 0; round < 40; ++round) {
    Batch batch;
    const int size = 1 + int(random() % 300);  // Across the 64-row inserts and their remainders.
    for (int i = 0; i < size; ++i) {
      // In odd rounds now and then a redelivery of an earlier event, among new ones; even
      // rounds have none, so that their inserts of 64 store all their rows.
      const bool again = round % 2 == 1 && next_id > 0 && random() % 5 == 0;
      const int id = again ? int(random() % next_id) : next_id++;
      // Times all over the day: many before the mark the last read left.
      batch.events.push_back(EventAt("e" + std::to_string(id), id % 17,
                                     kMonday + (id * 7919 % 1440) * kMicrosPerMinute));
    }
    auto committed = warehouse->Commit(batch);
    ASSERT_TRUE(committed.ok()) << committed.status();
    ASSERT_EQ(committed->newly_stored.size(), batch.events.size());
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      EXPECT_EQ(committed->newly_stored[i], stored.insert(batch.events[i].event_id).second)
          << batch.events[i].event_id;
    }
    if (round % 3 == 0) {
      auto [totals, counted] = TotalsAndRawCounts(*warehouse);
      ASSERT_EQ(totals, counted) << "after round " << round;
    }
  }
  auto [totals, counted] = TotalsAndRawCounts(*warehouse);
  EXPECT_EQ(totals, counted);
  EXPECT_FALSE(totals.empty());
}

// 64 rows to one insert, 10 of them stored before: the commit runs again one by one and says
// exactly which are new.
TEST(SqliteWarehouse, AnInsertWithSomeRowsStoredBeforeSaysWhichAreNew) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch before;
  for (int i = 0; i < 64; i += 7)
    before.events.push_back(EventAt("e" + std::to_string(i), i, kMonday + i));
  ASSERT_EQ(warehouse->Commit(before)->stored, 10u);
  Batch batch;
  for (int i = 0; i < 64; ++i)
    batch.events.push_back(EventAt("e" + std::to_string(i), i, kMonday + i));
  batch.events.push_back(batch.events[1]);  // And one twice within the batch, after the insert.
  auto committed = warehouse->Commit(batch);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->stored, 54u);
  EXPECT_EQ(committed->duplicates, 11u);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(committed->newly_stored[i], i % 7 != 0) << i;
  EXPECT_FALSE(committed->newly_stored[64]);
  auto [totals, counted] = TotalsAndRawCounts(*warehouse);
  EXPECT_EQ(totals, counted);
}

// Inserts of 64 rows that store them all, all late (before the mark the last read left), and
// the same 64 again, which store none.
TEST(SqliteWarehouse, WholeInsertsOfLateEventsAndOfRedeliveriesAreCountedExactly) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch first;
  for (int i = 0; i < 100; ++i) {
    first.events.push_back(
        EventAt("e" + std::to_string(i), i % 4, kMonday + (100 + i) * kMicrosPerMinute));
  }
  ASSERT_TRUE(warehouse->Commit(first).ok());
  ASSERT_TRUE(warehouse->StationBuckets("S1", {kMonday, kMonday + 1}).ok());  // Sums the first 100.
  Batch late;
  for (int i = 0; i < 128; ++i)
    late.events.push_back(EventAt("late" + std::to_string(i), i % 6, kMonday + i * 1000));
  auto stored = warehouse->Commit(late);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->stored, 128u);
  EXPECT_EQ(std::count(stored->newly_stored.begin(), stored->newly_stored.end(), true), 128);
  auto again = warehouse->Commit(late);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->stored, 0u);
  EXPECT_EQ(again->duplicates, 128u);
  EXPECT_EQ(std::count(again->newly_stored.begin(), again->newly_stored.end(), false), 128);
  auto [totals, counted] = TotalsAndRawCounts(*warehouse);
  EXPECT_EQ(totals, counted);
}

// What a console does before it serves: the totals brought up to date without a read, and
// nothing to do the second time.
TEST(SqliteWarehouse, CatchUpSumsWhatTheTotalsLackOnce) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  EXPECT_FALSE(*warehouse->CatchUp());  // Nothing stored: nothing to sum.
  Batch batch;
  for (int i = 0; i < 70; ++i) {
    batch.events.push_back(EventAt("e" + std::to_string(i), i % 3, kMonday + i * kMicrosPerMinute));
  }
  ASSERT_TRUE(warehouse->Commit(batch).ok());
  auto caught_up = warehouse->CatchUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up.status();
  EXPECT_TRUE(*caught_up);
  EXPECT_FALSE(*warehouse->CatchUp());
  auto summed = warehouse->Query("SELECT sum(pickups + dropoffs) FROM raw_events_activity");
  ASSERT_TRUE(summed.ok());
  EXPECT_EQ(summed->rows.at(0).at(0).text, "70");
  auto [totals, counted] = TotalsAndRawCounts(*warehouse);
  EXPECT_EQ(totals, counted);
}

// Two connections to one file, as a console and an ingest are: whichever sums or commits,
// each event is counted once.
TEST(SqliteWarehouse, TotalsStayExactAcrossConnections) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bikestream-totals-" + std::to_string(getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  {
    auto writer = std::move(*OpenWarehouse("sqlite:" + path.string()));
    auto reader = std::move(*OpenWarehouse("sqlite:" + path.string()));
    ASSERT_TRUE(writer->Setup().ok());
    for (int round = 0; round < 6; ++round) {
      Batch batch;
      // Each round's events go back before the last read's mark as well as past it.
      for (int i = 0; i < 150; ++i) {
        const int id = round * 150 + i;
        batch.events.push_back(EventAt("e" + std::to_string(id), id % 7,
                                       kMonday + (id * 37 % 900) * kMicrosPerMinute));
      }
      ASSERT_TRUE(writer->Commit(batch).ok());
      auto [totals, counted] = TotalsAndRawCounts(round % 2 ? *writer : *reader);
      ASSERT_EQ(totals, counted) << "round " << round;
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

// What a person's SQL sees on SQLite (ADR 0009): RFC 3339 text that compares as instants, a
// prefix of a date byte by byte, and the stored microseconds under main.
TEST(SqliteWarehouse, APersonsSqlSeesRfc3339AndMainTheStoredMicroseconds) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch batch;
  batch.events = {EventAt("a", 1, *ParseRfc3339("2024-10-13T00:00:00.5Z")),
                  EventAt("b", 2, *ParseRfc3339("2024-11-01T00:00:00Z"))};
  ASSERT_TRUE(warehouse->Commit(batch).ok());
  const auto answer = [&](const std::string& sql) {
    auto result = warehouse->Query(sql);
    EXPECT_TRUE(result.ok()) << sql << ": " << result.status();
    return result.ok() ? result->rows.at(0).at(0).text : "";
  };
  EXPECT_EQ(answer("SELECT count(*) FROM raw_events WHERE ts_iso >= '2024-10-13'"), "2");
  EXPECT_EQ(answer("SELECT count(*) FROM raw_events WHERE ts_iso < '2024-10-13 00:00:01+00'"), "1");
  EXPECT_EQ(
      answer("SELECT count(*) FROM raw_events WHERE ts_iso >= '2024-10' AND ts_iso < '2024-11'"),
      "1");
  EXPECT_EQ(answer("SELECT ts_iso FROM raw_events ORDER BY ts_iso LIMIT 1"),
            "2024-10-13T00:00:00.500000Z");
  EXPECT_EQ(answer("SELECT min(ts_iso) FROM main.raw_events"),
            std::to_string(*ParseRfc3339("2024-10-13T00:00:00.5Z")));
  // A write sees the tables as stored (a view left from the reads would refuse it).
  ASSERT_TRUE(
      warehouse->Query("UPDATE raw_events SET delta = delta + 1 WHERE ts_iso < 1728777600600000")
          .ok());
  EXPECT_EQ(answer("SELECT sum(delta) FROM raw_events"), "6");  // Only "a", at 00:00:00.5, moved.
}

// A ts_iso that is not a number (DML through `bikestream query`) is left out of the totals, and
// the events around it are still summed.
TEST(SqliteWarehouse, ATextTimestampDoesNotStopTheTotals) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  ASSERT_TRUE(
      warehouse
          ->Query(
              "INSERT INTO raw_events VALUES ('text', 'S1', '2024-10-07T00:00:00Z', 'pickup', 1)")
          .ok());
  for (int round = 0; round < 2; ++round) {
    Batch batch;
    for (int i = 0; i < 10; ++i) {
      batch.events.push_back(EventAt("e" + std::to_string(round * 10 + i), i,
                                     kMonday + (round * 60 + i) * kMicrosPerMinute));
    }
    ASSERT_TRUE(warehouse->Commit(batch).ok());
    auto [totals, counted] = TotalsAndRawCounts(*warehouse);
    ASSERT_EQ(totals, counted) << "round " << round;
    EXPECT_EQ(totals.size(), 10u * (round + 1));
  }
}

// More events than a read sums in one transaction, most of them at one instant: the reads sum
// them all, a chunk at a time, the instant whole.
TEST(SqliteWarehouse, TotalsAreSummedInChunksAndAnInstantIsNeverSplit) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch batch;
  for (int i = 0; i < 150'000; ++i) {
    batch.events.push_back(EventAt("e" + std::to_string(i), i % 5,
                                   i < 110'000 ? kMonday + kMicrosPerHour : kMonday + i));
  }
  ASSERT_EQ(warehouse->Commit(batch)->stored, 150'000u);
  auto [totals, counted] = TotalsAndRawCounts(*warehouse);
  EXPECT_EQ(totals, counted);
  auto busiest = warehouse->BusiestStations({kMonday, kMonday + kMicrosPerHour * 2}, 1);
  ASSERT_TRUE(busiest.ok());
  EXPECT_EQ(busiest->at(0).activity.pickups + busiest->at(0).activity.dropoffs, 30'000);
}

// A warehouse from the version that added to the totals in each commit has the totals but not
// their mark: Setup() puts the mark after its last event, so nothing is counted twice.
TEST(SqliteWarehouse, TotalsKeptByAnEarlierVersionAreTakenAsTheyAre) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch first;
  for (int i = 0; i < 100; ++i)
    first.events.push_back(EventAt("e" + std::to_string(i), i % 4, kMonday + i * kMicrosPerMinute));
  ASSERT_TRUE(warehouse->Commit(first).ok());
  auto [before, counted_before] =
      TotalsAndRawCounts(*warehouse);  // Summed: as the earlier version kept them.
  ASSERT_EQ(before, counted_before);
  ASSERT_TRUE(warehouse->Query("DROP TABLE raw_events_activity_state").ok());
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch second;
  second.events = {EventAt("late", 1, kMonday),
                   EventAt("new", 2, kMonday + 200 * kMicrosPerMinute)};
  ASSERT_TRUE(warehouse->Commit(second).ok());
  auto [totals, counted] = TotalsAndRawCounts(*warehouse);
  EXPECT_EQ(totals, counted);
}

}  // namespace
}  // namespace bikestream
