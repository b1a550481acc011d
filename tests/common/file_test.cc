// FileLock: one holder at a time, released with its holder, also when that is a process that dies.
#include "common/file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace bikestream {
namespace {

std::string LockPath() {
  return ::testing::TempDir() + "/bikestream-lock-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".lock";
}

TEST(FileLock, IsHeldByOneAtATimeAndReleasedWithItsHolder) {
  const std::string path = LockPath();
  std::filesystem::remove(path);
  {
    auto first = FileLock::TryAcquire(path);
    ASSERT_TRUE(first.ok()) << first.status();
    auto second = FileLock::TryAcquire(path);
    EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
    FileLock moved = std::move(*first);  // The lock goes with the object.
    EXPECT_TRUE(absl::IsFailedPrecondition(FileLock::TryAcquire(path).status()));
  }
  EXPECT_TRUE(FileLock::TryAcquire(path).ok());
}

TEST(FileLock, AProcessKilledWhileHoldingItLeavesNoStaleLock) {
  const std::string path = LockPath();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = FileLock::TryAcquire(path);
    const char held = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &held, 1);
    ::pause();  // Until killed.
    ::_exit(0);
  }
  char held = 0;
  ASSERT_EQ(::read(ready[0], &held, 1), 1);
  ASSERT_EQ(held, 'y');
  EXPECT_TRUE(absl::IsFailedPrecondition(FileLock::TryAcquire(path).status()));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(FileLock::TryAcquire(path).ok());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(FileLock, APathThatCannotBeOpenedSaysWhy) {
  auto lock = FileLock::TryAcquire("/nonexistent-dir/x.lock");
  EXPECT_TRUE(absl::IsUnavailable(lock.status()));
  EXPECT_NE(lock.status().message().find("/nonexistent-dir/x.lock"), std::string::npos);
}

}  // namespace
}  // namespace bikestream
