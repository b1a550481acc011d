#include "ingest/concurrent_commits.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace bikestream {
namespace {

// A writer whose commits wait until the test opens it, then answer with the batch's size, or
// with the error it was opened with. std::mutex, which ThreadSanitizer sees into (Debian's
// Abseil is not built for it).
class HeldWriter final : public EventSink {
 public:
  absl::StatusOr<CommitResult> Commit(const Batch& batch) override {
    std::unique_lock lock(mutex_);
    started_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    returned_ = true;
    changed_.notify_all();
    if (!error_.ok()) return error_;
    return CommitResult{.stored = batch.events.size()};
  }

  void Open(absl::Status error = absl::OkStatus()) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
    open_ = true;
    changed_.notify_all();
  }
  void AwaitStarted() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return started_; });
  }
  // Until its commit is about to return (the future may need a moment more to be ready).
  void AwaitReturning() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return returned_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  bool started_ = false;
  bool returned_ = false;
  absl::Status error_;
};

Batch Events(int count) {
  Batch batch;
  for (int i = 0; i < count; ++i) batch.events.push_back(Event{.event_id = std::to_string(i)});
  return batch;
}

TEST(ConcurrentCommits, WithoutWritersThereIsNothingToLaunchOn) {
  ConcurrentCommits<int> commits({});
  EXPECT_FALSE(commits.has_writers());
  EXPECT_FALSE(commits.has_idle_writer());
  EXPECT_TRUE(commits.empty());
  EXPECT_FALSE(commits.OldestFinished());
}

TEST(ConcurrentCommits, CommitsRunAtOnceAndAreCollectedOldestFirstWithTheirPayloads) {
  HeldWriter first_idle, second_idle;  // Idle writers are taken from the back.
  ConcurrentCommits<std::string> commits({&second_idle, &first_idle});
  ASSERT_TRUE(commits.has_writers());
  commits.Launch(Events(1), "one");
  commits.Launch(Events(2), "two");
  EXPECT_FALSE(commits.has_idle_writer());
  EXPECT_TRUE(commits.has_writers());  // All busy: the callers must not commit on their own.
  EXPECT_EQ(commits.messages(), 3u);
  // Both commit at once, each on a writer of its own.
  first_idle.AwaitStarted();
  second_idle.AwaitStarted();

  // The younger finishing first does not make the oldest finished.
  second_idle.Open();
  second_idle.AwaitReturning();
  EXPECT_FALSE(commits.OldestFinished());
  first_idle.Open(absl::UnavailableError("lost"));

  auto oldest = commits.CollectOldest();
  EXPECT_EQ(oldest.payload, "one");
  EXPECT_EQ(oldest.batch->events.size(), 1u);
  EXPECT_EQ(oldest.result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(commits.has_idle_writer());  // Its writer is free again.
  EXPECT_EQ(commits.messages(), 2u);

  auto younger = commits.CollectOldest();
  EXPECT_EQ(younger.payload, "two");
  ASSERT_TRUE(younger.result.ok()) << younger.result.status();
  EXPECT_EQ(younger.result->stored, 2u);
  EXPECT_TRUE(commits.empty());
  EXPECT_EQ(commits.messages(), 0u);
}

TEST(ConcurrentCommits, TheOldestIsFinishedOnceItsCommitReturns) {
  HeldWriter writer;
  ConcurrentCommits<int> commits({&writer});
  commits.Launch(Events(1), 7);
  EXPECT_FALSE(commits.OldestFinished());
  writer.Open();
  while (!commits.OldestFinished()) std::this_thread::yield();
  EXPECT_EQ(commits.CollectOldest().payload, 7);
}

}  // namespace
}  // namespace bikestream
