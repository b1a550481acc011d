// What is particular to the SQLite engine: its URLs, its file, its locking.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <future>

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
  const auto dir = std::filesystem::temp_directory_path() / ("bikestream-dir-" + std::to_string(getpid()) + ".db");
  std::filesystem::create_directories(dir);
  auto opened = OpenWarehouse("sqlite:" + dir.string());
  std::filesystem::remove(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().ToString().find("is a directory"), std::string::npos) << opened.status();
  EXPECT_NE(opened.status().ToString().find(dir.string() + "/bikestream.db"), std::string::npos) << opened.status();
}

// Before, `setup` said "tables ready" on a file it could not write, and ingest failed with
// only "attempt to write a readonly database".
TEST(SqliteWarehouse, AReadOnlyFileIsRefusedForWritingAndStillRead) {
  const auto path = std::filesystem::temp_directory_path() / ("bikestream-ro-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  ASSERT_TRUE((*OpenWarehouse("sqlite:" + path.string()))->Setup().ok());
  // As root, permissions do not stop a write; the immutable flag does.
  const bool immutable = getuid() == 0 && std::system(("chattr +i '" + path.string() + "' 2>/dev/null").c_str()) == 0;
  if (!immutable) std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  auto for_writing = OpenWarehouse("sqlite:" + path.string());
  auto for_reading = OpenWarehouse("sqlite:" + path.string(), {}, OpenMode::kMustExist);
  const bool read_ok = for_reading.ok();
  for_reading = absl::UnknownError("closed");
  if (immutable) {
    ASSERT_EQ(std::system(("chattr -i '" + path.string() + "'").c_str()), 0);
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  if (getuid() == 0 && !immutable) GTEST_SKIP() << "root without chattr: the file cannot be made read-only here";
  ASSERT_FALSE(for_writing.ok());
  EXPECT_EQ(for_writing.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(for_writing.status().ToString().find("read-only"), std::string::npos) << for_writing.status();
  EXPECT_NE(for_writing.status().ToString().find("chmod u+w"), std::string::npos) << for_writing.status();
  EXPECT_TRUE(read_ok);
}

// Two processes opening a new warehouse file at once (`gbfs --warehouse W | ingest --warehouse
// W`): turning the file to WAL needs it alone for a moment, and SQLite refuses the other at once
// rather than have it wait (it did, about one pair in two). Threads of one process lock the file as
// processes do.
TEST(SqliteWarehouse, TwoOpeningANewFileAtOnceBothSucceed) {
  const auto path = std::filesystem::temp_directory_path() / ("bikestream-busy-" + std::to_string(getpid()) + ".db");
  const auto remove = [&] {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path.string() + suffix);
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
  for (const TableNames& names : {TableNames{.raw_events = "raw events"}, TableNames{.raw_events = "1raw"},
                                  TableNames{.dead_letter = "x\"; DROP TABLE y; --"},
                                  TableNames{.raw_events = std::string(129, 'r')},
                                  TableNames{.station_features = "raw_events"}}) {
    auto opened = OpenWarehouse("sqlite::memory:", names);
    ASSERT_FALSE(opened.ok()) << names.raw_events;
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(OpenWarehouse("sqlite::memory:", {.raw_events = "Raw_2025", .station_features = "_f"}).ok());
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

// A warehouse made before the activity table existed gains it, filled from raw_events, at its
// next Setup(): the same buckets as if it had always been kept.
TEST(SqliteWarehouse, SetupFillsAMissingActivityTableFromRawEvents) {
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  Batch batch;
  for (int i = 0; i < 50; ++i) {
    batch.events.push_back(Event{"e-" + std::to_string(i), i % 2 ? "A" : "B", 1'728'259'200'000'000 + i * kMicrosPerMinute,
                                 i % 3 ? Kind::kPickup : Kind::kDropoff, 1 + i % 4});
  }
  ASSERT_TRUE(warehouse->Commit(batch).ok());
  const TimestampMicros day = 24 * kMicrosPerHour;
  auto kept = warehouse->StationBuckets("A", 1'728'259'200'000'000, 1'728'259'200'000'000 + day);
  auto busiest = warehouse->BusiestStations(1'728'259'200'000'000, 1'728'259'200'000'000 + day, 5);
  ASSERT_TRUE(kept.ok() && busiest.ok());
  ASSERT_EQ(kept->size(), 4u);  // 50 minutes: four buckets.

  ASSERT_TRUE(warehouse->Query("DROP TABLE raw_events_activity").ok());
  ASSERT_TRUE(warehouse->Setup().ok());
  EXPECT_EQ(*warehouse->StationBuckets("A", 1'728'259'200'000'000, 1'728'259'200'000'000 + day), *kept);
  EXPECT_EQ(*warehouse->BusiestStations(1'728'259'200'000'000, 1'728'259'200'000'000 + day, 5), *busiest);
  ASSERT_TRUE(warehouse->Setup().ok());  // Again: not filled twice.
  EXPECT_EQ(*warehouse->StationBuckets("A", 1'728'259'200'000'000, 1'728'259'200'000'000 + day), *kept);
}

}  // namespace
}  // namespace bikestream
