// What is particular to the SQLite engine: its URLs, its file, its locking.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

Event MakeEvent(std::string id) { return Event{std::move(id), "A_101", 1760804651000000, Kind::kPickup, 1}; }

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

}  // namespace
}  // namespace bikestream
