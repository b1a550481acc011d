// The job registry lists live jobs only, and no entry in its directory can stop it.
#include "job/job_registry.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_test_util.h"

namespace bikestream {
namespace {

class JobRegistryTest : public ::testing::Test {
 protected:
  JobRegistry Registry() {
    return JobRegistry(dir_path_, [this](const std::string& line) { warnings_.push_back(line); });
  }
  std::filesystem::path Jobs() const { return dir_path_ / "jobs"; }

  e2e::TempDir dir_;
  std::filesystem::path dir_path_ = dir_ / "state";
  std::vector<std::string> warnings_;
};

TEST_F(JobRegistryTest, ListsALiveJobAndForgetsItOnUnregister) {
  JobRegistry registry = Registry();
  ASSERT_TRUE(registry.Register({.id = "job-a", .pid = getpid(), .admin = "127.0.0.1:1"}).ok());
  auto jobs = registry.List();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, "job-a");
  EXPECT_NE(jobs[0].pid_start, 0u);  // Filled in by Register, so a reused pid is told apart.
  registry.Unregister("job-a");
  EXPECT_TRUE(registry.List().empty());
}

TEST_F(JobRegistryTest, AnEndedJobIsKeptADayWithTheStateItEndedIn) {
  JobRegistry registry = Registry();
  ASSERT_TRUE(registry.Register({.id = "job-a", .pid = getpid(), .source = "mqtt://h/t"}).ok());
  ASSERT_TRUE(registry.Register({.id = "job-b", .pid = getpid()}).ok());
  registry.Unregister("job-a", "DRAINED");
  registry.Unregister("job-b");  // Without a state: forgotten.
  EXPECT_TRUE(registry.List().empty());
  auto ended = registry.Ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].id, "job-a");
  EXPECT_EQ(ended[0].state, "DRAINED");
  EXPECT_EQ(ended[0].source, "mqtt://h/t");
  EXPECT_FALSE(ended[0].ended.empty());

  const std::filesystem::path file = Jobs() / "ended" / "job-a.json";
  std::filesystem::last_write_time(
      file, std::filesystem::file_time_type::clock::now() - std::chrono::hours(25));
  EXPECT_TRUE(registry.Ended().empty());
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(JobRegistryTest, AnEntryWhosePidIsNowAnotherProcessIsForgotten) {
  JobRegistry registry = Registry();
  // Our own pid, alive, but not the process that started at that moment.
  ASSERT_TRUE(registry.Register({.id = "reused", .pid = getpid(), .pid_start = 1}).ok());
  EXPECT_TRUE(registry.List().empty());
  EXPECT_FALSE(std::filesystem::exists(Jobs() / "reused.json"));
}

TEST_F(JobRegistryTest, UnreadableEntriesAreSkippedWithAWarningAndTheRestListed) {
  JobRegistry registry = Registry();
  ASSERT_TRUE(registry.Register({.id = "good", .pid = getpid()}).ok());
  std::filesystem::create_directories(Jobs() / "a-directory.json");
  std::ofstream(Jobs() / "garbage.json") << "{not json";
  std::ofstream(Jobs() / "wrong-types.json") << R"({"id": 5, "pid": "twelve"})";
  std::ofstream(Jobs() / "array.json") << "[1, 2]";

  auto jobs = registry.List();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, "good");
  ASSERT_EQ(warnings_.size(), 4u);
  for (const std::string& warning : warnings_)
    EXPECT_NE(warning.find("skipping"), std::string::npos) << warning;
  // Found by id, also past the bad entries.
  EXPECT_TRUE(registry.Find("go").ok());
}

TEST_F(JobRegistryTest, FieldsOfTheWrongTypeReadAsEmptyNotAsACrash) {
  std::filesystem::create_directories(Jobs());
  std::ofstream(Jobs() / "odd.json")
      << fmt::format(R"({{"id": "odd", "pid": {}, "admin": 7, "source": null}})", getpid());
  auto jobs = Registry().List();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].admin, "");
  EXPECT_EQ(jobs[0].source, "");
}

}  // namespace
}  // namespace bikestream
