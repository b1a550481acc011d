// FileLock: one holder at a time, released with its holder, also when that is a process that dies.
// ReadWholeFile: bounded, and a clear refusal of what is no file to read whole. ReplaceFile: a
// symbolic link stays a link.
#include "common/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/bikestream-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + name;
}

TEST(ReadWholeFile, AFileUpToItsBoundIsReadAndOnePastItRefusedNamingBoth) {
  const std::string path = TempPath("file");
  std::ofstream(path) << std::string(100, 'x');
  EXPECT_EQ(ReadWholeFile(path, 100).value(), std::string(100, 'x'));
  auto refused = ReadWholeFile(path, 99);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_EQ(refused.status().message(),
            "cannot read " + path + ": it holds more than 99 bytes, more than such a file may");
  EXPECT_TRUE(absl::IsNotFound(ReadWholeFile(TempPath("missing"), 100).status()));
}

// /dev/zero would be read for ever and a FIFO without a writer would block: both are refused at
// once (a credentials file pointed at either once aborted or hung bikestream).
TEST(ReadWholeFile, WhatIsNoRegularFileIsRefusedAtOnce) {
  const std::string fifo = TempPath("fifo");
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {std::string("/dev/zero"), fifo, ::testing::TempDir()}) {
    auto read = ReadWholeFile(path, 1 << 20);
    EXPECT_TRUE(absl::IsUnavailable(read.status())) << path << ": " << read.status();
    EXPECT_NE(read.status().message().find(path), std::string::npos) << read.status();
  }
}

// A poller's state given as a link to the file: the save replaces the file, the link stays.
TEST(ReplaceFile, ALinkStaysALinkToTheNewContents) {
  const std::string target = TempPath("target");
  const std::string link = TempPath("link");
  std::filesystem::remove(link);
  std::ofstream(target) << "old";
  std::filesystem::create_symlink(target, link);
  ASSERT_TRUE(ReplaceFile(link, "new").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(ReadWholeFile(target, 100).value(), "new");
  EXPECT_EQ(ResolvedPath(link), ResolvedPath(target));
  EXPECT_EQ(ResolvedPath(TempPath("not-yet")),
            std::filesystem::weakly_canonical(TempPath("not-yet")).string());
  // A link to a file not written yet names that file.
  const std::string dangling = TempPath("dangling");
  std::filesystem::remove(dangling);
  std::filesystem::create_symlink(std::filesystem::path(TempPath("dangling-target")).filename(),
                                  dangling);
  EXPECT_EQ(ResolvedPath(dangling),
            std::filesystem::weakly_canonical(TempPath("dangling-target")).string());
  ASSERT_TRUE(ReplaceFile(dangling, "first").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(dangling));
  EXPECT_EQ(ReadWholeFile(TempPath("dangling-target"), 100).value(), "first");
}

}  // namespace
}  // namespace bikestream
