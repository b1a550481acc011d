// The streaming runner on a fake source, a fake sink and a fake clock: acknowledgement after
// commit, lease extension, hand-back with backoff, drain, cancel and flow control, in
// milliseconds. (The Pub/Sub adapters run the same runner against the real emulator in
// pubsub_job_test.)
#include "job/streaming_runner.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/fake_clock.h"

namespace bikestream {
namespace {

using testing_support::FakeClock;

constexpr DurationMicros kSecond = kMicrosPerSecond;
constexpr auto kPatience = std::chrono::seconds(10);

std::string EventJson(int i) {
  return fmt::format(
      R"({{"event_id":"e-{}","station_id":"A_101","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":1}})",
      i);
}

// Waits (in real time, briefly) until `condition` holds.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A source of `count` messages that records every call and, as Pub/Sub does, redelivers what
// is handed back once its delay has passed on the clock.
class FakeSource final : public EventSource {
 public:
  FakeSource(int count, Clock& clock) : clock_(clock) {
    for (int i = 1; i <= count; ++i) available_.push_back(std::to_string(i));
  }

  std::string Name() const override { return "fake"; }

  absl::StatusOr<Received> Receive(std::size_t max_messages) override {
    std::unique_lock lock(mutex_);
    ++receives_;
    if (!receive_error_.ok()) return receive_error_;
    RedeliverDue();
    Received received;
    while (!available_.empty() && received.messages.size() < max_messages) {
      const std::string id = available_.front();
      available_.pop_front();
      received.messages.push_back(
          {.ack_id = id, .payload = EventJson(std::stoi(id)), .message_id = id});
      outstanding_.insert(id);
    }
    max_outstanding_ = std::max(max_outstanding_, outstanding_.size());
    received.exhausted = available_.empty() && delayed_.empty() && (finished_ || stopped_);
    if (received.messages.empty() && !received.exhausted) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // "Waits briefly."
    }
    return received;
  }

  absl::Status Ack(const std::vector<std::string>& ids) override {
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
      acked_.insert(id);
      outstanding_.erase(id);
    }
    return absl::OkStatus();
  }

  absl::Status Nack(const std::vector<std::string>& ids, DurationMicros delay) override {
    std::lock_guard lock(mutex_);
    nack_delays_.push_back(delay);
    for (const auto& id : ids) {
      nacked_.insert(id);
      outstanding_.erase(id);
      delayed_.emplace_back(clock_.Now() + delay, id);
    }
    return absl::OkStatus();
  }

  absl::Status ExtendLeases(const std::vector<std::string>& ids, DurationMicros lease) override {
    std::lock_guard lock(mutex_);
    extensions_.emplace_back(std::set<std::string>(ids.begin(), ids.end()), lease);
    return absl::OkStatus();
  }

  void StopReceiving() override {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }

  // No more messages once these are received.
  void Finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  void FailReceives(absl::Status status) {
    std::lock_guard lock(mutex_);
    receive_error_ = std::move(status);
  }

  template <typename T>
  T Read(T FakeSource::*field) {
    std::lock_guard lock(mutex_);
    return this->*field;
  }

  std::set<std::string> acked_, nacked_, outstanding_;
  std::vector<TimestampMicros> nack_delays_;
  std::vector<std::pair<std::set<std::string>, TimestampMicros>> extensions_;
  std::size_t max_outstanding_ = 0;
  int receives_ = 0;
  bool stopped_ = false;

 private:
  void RedeliverDue() {
    const TimestampMicros now = clock_.Now();
    std::erase_if(delayed_, [&](const auto& entry) {
      if (entry.first > now) return false;
      available_.push_back(entry.second);
      return true;
    });
  }

  Clock& clock_;
  std::mutex mutex_;
  std::deque<std::string> available_;
  std::vector<std::pair<TimestampMicros, std::string>> delayed_;  // Handed back: (due, id).
  bool finished_ = false;
  absl::Status receive_error_;
};

// A sink that stores each event id once, can hold commits at a gate, and can fail them.
class FakeSink final : public EventSink {
 public:
  absl::StatusOr<CommitResult> Commit(const Batch& batch) override {
    std::unique_lock lock(mutex_);
    ++commits_started_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::UnavailableError("the warehouse is away");
    }
    CommitResult result;
    for (const Event& e : batch.events) {
      const bool fresh = stored_.insert(e.event_id).second;
      ++(fresh ? result.stored : result.duplicates);
      result.newly_stored.push_back(fresh);
    }
    return result;
  }

  void Close() { SetOpen(false); }
  void Open() { SetOpen(true); }
  void FailNext(int commits) {
    std::lock_guard lock(mutex_);
    failures_left_ = commits;
  }
  int commits_started() {
    std::lock_guard lock(mutex_);
    return commits_started_;
  }
  std::size_t stored() {
    std::lock_guard lock(mutex_);
    return stored_.size();
  }

 private:
  void SetOpen(bool open) {
    std::lock_guard lock(mutex_);
    open_ = open;
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int failures_left_ = 0;
  int commits_started_ = 0;
  std::set<std::string> stored_;
};

class StreamingRunnerTest : public ::testing::Test {
 protected:
  // Starts the runner on its own thread.
  void Start(StreamingOptions options) {
    options_ = std::move(options);
    options_.clock = &clock_;
    result_ = std::async(std::launch::async, [this] {
      return RunStreaming(*source_, sink_, options_, control_, metrics_);
    });
  }
  absl::Status Finish() {
    EXPECT_EQ(result_.wait_for(kPatience), std::future_status::ready);
    return result_.get();
  }

  FakeClock clock_{*ParseRfc3339("2025-10-18T16:30:00Z")};
  std::unique_ptr<FakeSource> source_;
  FakeSink sink_;
  StreamingOptions options_;
  JobControl control_;
  JobMetrics metrics_;
  std::future<absl::Status> result_;
};

TEST_F(StreamingRunnerTest, AcknowledgesOnlyAfterTheCommitStoresTheMessages) {
  source_ = std::make_unique<FakeSource>(5, clock_);
  sink_.Close();
  Start({.batch_size = 5});
  ASSERT_TRUE(Eventually([&] { return sink_.commits_started() == 1; }));
  EXPECT_TRUE(source_->Read(&FakeSource::acked_).empty());
  sink_.Open();
  ASSERT_TRUE(Eventually([&] { return source_->Read(&FakeSource::acked_).size() == 5; }));
  EXPECT_EQ(sink_.stored(), 5u);
  source_->Finish();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(control_.state(), JobState::kDrained);
  EXPECT_EQ(metrics_.stored, 5u);
  EXPECT_EQ(metrics_.acks, 5u);
}

TEST_F(StreamingRunnerTest, ExtendsTheLeasesOfMessagesWaitingForTheirCommit) {
  source_ = std::make_unique<FakeSource>(3, clock_);
  sink_.Close();
  Start({.batch_size = 3, .lease = 60 * kSecond});
  ASSERT_TRUE(Eventually([&] { return sink_.commits_started() == 1; }));
  EXPECT_TRUE(source_->Read(&FakeSource::extensions_).empty());
  // The lease extender, the one thread here asleep on the clock, must have set its deadline
  // before the clock moves: one set after would wait a third of the lease beyond, for ever.
  ASSERT_TRUE(Eventually([&] { return clock_.sleepers() == 1; }));
  clock_.Advance(20 * kSecond);  // A third of the lease.
  ASSERT_TRUE(Eventually([&] { return !source_->Read(&FakeSource::extensions_).empty(); }));
  const auto extension = source_->Read(&FakeSource::extensions_).front();
  EXPECT_EQ(extension.first, (std::set<std::string>{"1", "2", "3"}));
  EXPECT_EQ(extension.second, 60 * kSecond);
  sink_.Open();
  ASSERT_TRUE(Eventually([&] { return source_->Read(&FakeSource::acked_).size() == 3; }));
  // Acknowledged messages are no longer extended.
  const std::size_t extensions = source_->Read(&FakeSource::extensions_).size();
  clock_.Advance(20 * kSecond);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(source_->Read(&FakeSource::extensions_).size(), extensions);
  control_.RequestDrain();
  EXPECT_TRUE(Finish().ok());
}

TEST_F(StreamingRunnerTest, HandsBackAFailedBatchWithAGrowingDelayAndPausesReceiving) {
  source_ = std::make_unique<FakeSource>(4, clock_);
  sink_.FailNext(2);
  Start({.batch_size = 4});
  ASSERT_TRUE(Eventually([&] { return source_->Read(&FakeSource::nack_delays_).size() == 1; }));
  EXPECT_EQ(source_->Read(&FakeSource::nack_delays_), (std::vector<TimestampMicros>{1 * kSecond}));
  // Paused: no receive while the delay runs, but for at most one whose room was reserved
  // before the hand-back.
  const int receives = source_->Read(&FakeSource::receives_);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(source_->Read(&FakeSource::receives_), receives + 1);
  clock_.Advance(1 * kSecond);
  ASSERT_TRUE(Eventually([&] { return source_->Read(&FakeSource::nack_delays_).size() == 2; }));
  EXPECT_EQ(source_->Read(&FakeSource::nack_delays_),
            (std::vector<TimestampMicros>{1 * kSecond, 2 * kSecond}));
  // Unhealthy while nothing is being stored.
  EXPECT_EQ(metrics_.commit_failures_in_a_row, 2u);
  EXPECT_NE(Unhealthy(metrics_, control_.state()), "");
  clock_.Advance(2 * kSecond);
  ASSERT_TRUE(Eventually([&] { return source_->Read(&FakeSource::acked_).size() == 4; }));
  EXPECT_EQ(sink_.stored(), 4u);
  EXPECT_EQ(metrics_.commit_failures, 2u);
  EXPECT_EQ(metrics_.commit_failures_in_a_row, 0u);
  EXPECT_EQ(Unhealthy(metrics_, control_.state()), "");
  EXPECT_EQ(metrics_.nacks, 8u);
  control_.RequestDrain();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(control_.state(), JobState::kDrained);
}

TEST_F(StreamingRunnerTest, DrainStopsReceivingAndCommitsWhatIsInFlight) {
  source_ = std::make_unique<FakeSource>(6, clock_);
  sink_.Close();
  Start({.batch_size = 3});
  ASSERT_TRUE(Eventually([&] { return sink_.commits_started() == 1; }));
  control_.RequestDrain();
  EXPECT_TRUE(Eventually([&] { return source_->Read(&FakeSource::stopped_); }));
  sink_.Open();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(control_.state(), JobState::kDrained);
  EXPECT_EQ(sink_.stored(), 6u);
  EXPECT_EQ(source_->Read(&FakeSource::acked_).size(), 6u);
  EXPECT_TRUE(source_->Read(&FakeSource::nacked_).empty());
}

TEST_F(StreamingRunnerTest, CancelHandsBackWhatIsNotCommittedAtOnce) {
  source_ = std::make_unique<FakeSource>(5, clock_);
  // A batch that never fills and a commit delay the fake clock never reaches.
  Start({.batch_size = 100, .max_commit_delay = 3600 * kSecond});
  ASSERT_TRUE(Eventually([&] { return metrics_.received == 5; }));
  control_.RequestCancel();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(control_.state(), JobState::kCancelled);
  EXPECT_EQ(sink_.stored(), 0u);
  EXPECT_TRUE(source_->Read(&FakeSource::acked_).empty());
  EXPECT_EQ(source_->Read(&FakeSource::nacked_), (std::set<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(source_->Read(&FakeSource::nack_delays_), (std::vector<TimestampMicros>{0}));
  EXPECT_EQ(metrics_.in_flight, 0u);
}

TEST_F(StreamingRunnerTest, FlowControlCapsTheMessagesReceivedAndNotAcknowledged) {
  source_ = std::make_unique<FakeSource>(100, clock_);
  source_->Finish();
  sink_.Close();
  Start({.receivers = 2,
         .max_messages_per_receive = 4,
         .max_outstanding_messages = 10,
         .batch_size = 10,
         .max_commit_delay = 3600 * kSecond});
  ASSERT_TRUE(Eventually([&] { return sink_.commits_started() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Room for a receiver to overstep.
  EXPECT_EQ(source_->Read(&FakeSource::max_outstanding_), 10u);
  sink_.Open();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(sink_.stored(), 100u);
  EXPECT_EQ(source_->Read(&FakeSource::acked_).size(), 100u);
  EXPECT_LE(source_->Read(&FakeSource::max_outstanding_), 10u);
}

TEST_F(StreamingRunnerTest, AnErrorWaitingCannotCureFailsTheJob) {
  source_ = std::make_unique<FakeSource>(0, clock_);
  source_->FailReceives(absl::NotFoundError("no such subscription"));
  Start({});
  const absl::Status status = Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(control_.state(), JobState::kFailed);
}

TEST_F(StreamingRunnerTest, ATransientReceiveErrorIsRetriedAfterADelay) {
  source_ = std::make_unique<FakeSource>(2, clock_);
  source_->FailReceives(absl::UnavailableError("blip"));
  std::vector<std::string> log;
  std::mutex log_mutex;
  Start({.log = [&](const std::string& line) {
    std::lock_guard lock(log_mutex);
    log.push_back(line);
  }});
  // Both receivers (the default) failed and wait: one still to fail would wait from after the
  // Advance below, for ever on this clock.
  ASSERT_TRUE(Eventually([&] { return clock_.sleepers() == 2; }));
  source_->FailReceives(absl::OkStatus());
  clock_.Advance(100 * kMicrosPerMilli);
  source_->Finish();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(sink_.stored(), 2u);
  std::lock_guard lock(log_mutex);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("receiving failed, retrying: blip"), std::string::npos);
}

// Records the event ids of each commit it hears of, in order.
class RecordingObserver final : public CommitObserver {
 public:
  void OnCommit(const std::vector<Event>& events, const std::vector<bool>&) override {
    std::lock_guard lock(mutex_);
    for (const Event& e : events) ids_.push_back(e.event_id);
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mutex_);
    return ids_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> ids_;
};

// Two writers beside the runner's own sink: a batch stages and commits while the last waits.
// Each writer takes the next batch in turn, the second writer first.
class ConcurrentWritersTest : public StreamingRunnerTest {
 protected:
  void Start(StreamingOptions options) {
    options.concurrent_writers = {&first_, &second_};
    options.observer = &observer_;
    StreamingRunnerTest::Start(std::move(options));
  }
  std::set<std::string> Acked() { return source_->Read(&FakeSource::acked_); }
  // `count` messages in batches of 3 (none cut by time), both writers holding one at their gate.
  void StartWithBothWritersHeld(int count, bool fail_on_commit_error = false) {
    source_ = std::make_unique<FakeSource>(count, clock_);
    first_.Close();
    second_.Close();
    Start({.batch_size = 3,
           .max_commit_delay = 3600 * kSecond,
           .fail_on_commit_error = fail_on_commit_error});
    ASSERT_TRUE(Eventually([&] { return first_.commits_started() == 1; }));
    ASSERT_TRUE(Eventually([&] { return second_.commits_started() == 1; }));
    ASSERT_TRUE(Eventually([&] { return metrics_.received == std::uint64_t(count); }));
  }
  // After a drain or cancel: the job still waits for both writers' commits, then they go on.
  void ExpectWaitingThenOpenBoth() {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(result_.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
    first_.Open();
    second_.Open();
  }

  FakeSink first_, second_;
  RecordingObserver observer_;
};

TEST_F(ConcurrentWritersTest, EachBatchIsAcknowledgedAfterItsOwnCommitInTheOrderTheyStaged) {
  StartWithBothWritersHeld(6);  // Both batches commit at once.
  first_.Open();  // The later batch commits; the earlier still waits, and so do both acks.
  ASSERT_TRUE(Eventually([&] { return first_.stored() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(Acked().empty());
  EXPECT_TRUE(observer_.ids().empty());
  second_.Open();
  ASSERT_TRUE(Eventually([&] { return Acked().size() == 6; }));
  EXPECT_EQ(second_.stored(), 3u);
  EXPECT_EQ(observer_.ids(), (std::vector<std::string>{"e-1", "e-2", "e-3", "e-4", "e-5", "e-6"}));
  EXPECT_EQ(sink_.commits_started(), 0);  // The runner's own sink commits nothing itself.
  source_->Finish();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(control_.state(), JobState::kDrained);
  EXPECT_EQ(metrics_.commits, 2u);
  EXPECT_EQ(metrics_.stored, 6u);
  EXPECT_EQ(metrics_.acks, 6u);
  EXPECT_EQ(metrics_.in_flight, 0u);
}

TEST_F(ConcurrentWritersTest, ABatchCutByTheDelayWaitsUntilNoCommitIsInFlight) {
  source_ = std::make_unique<FakeSource>(4, clock_);
  second_.Close();
  Start({.batch_size = 3, .max_commit_delay = kSecond});
  ASSERT_TRUE(Eventually([&] { return second_.commits_started() == 1; }));
  ASSERT_TRUE(Eventually([&] { return metrics_.received == 4; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Staged, too.
  clock_.Advance(2 * kSecond);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(first_.commits_started(), 0);  // The fourth message waits, though a writer is idle.
  second_.Open();
  // The clock moves on while waiting, in case the fourth was staged after the Advance above.
  ASSERT_TRUE(Eventually([&] {
    clock_.Advance(kSecond);
    return Acked().size() == 4;
  }));
  EXPECT_EQ(second_.stored(), 4u);  // Both batches on the writer that came back first.
  source_->Finish();
  EXPECT_TRUE(Finish().ok());
}

TEST_F(ConcurrentWritersTest, AFailedCommitHandsBackOnlyItsOwnBatch) {
  second_.FailNext(1);  // The first batch's.
  StartWithBothWritersHeld(6);
  first_.Open();
  ASSERT_TRUE(Eventually([&] { return first_.stored() == 3; }));
  second_.Open();
  ASSERT_TRUE(Eventually([&] { return Acked() == std::set<std::string>{"4", "5", "6"}; }));
  EXPECT_EQ(source_->Read(&FakeSource::nacked_), (std::set<std::string>{"1", "2", "3"}));
  EXPECT_EQ(source_->Read(&FakeSource::nack_delays_), (std::vector<TimestampMicros>{kSecond}));
  clock_.Advance(kSecond);  // The handed-back batch comes again, and commits.
  ASSERT_TRUE(Eventually([&] { return Acked().size() == 6; }));
  source_->Finish();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(first_.stored() + second_.stored(), 6u);
  EXPECT_EQ(metrics_.commit_failures, 1u);
  EXPECT_EQ(metrics_.nacks, 3u);
  EXPECT_EQ(metrics_.in_flight, 0u);
}

TEST_F(ConcurrentWritersTest, BatchesThatFailTogetherShareOneStepOfTheBackoff) {
  first_.FailNext(1);
  second_.FailNext(1);
  StartWithBothWritersHeld(6);
  first_.Open();
  second_.Open();
  ASSERT_TRUE(Eventually([&] { return source_->Read(&FakeSource::nacked_).size() == 6; }));
  EXPECT_EQ(source_->Read(&FakeSource::nack_delays_),
            (std::vector<TimestampMicros>{kSecond, kSecond}));
  clock_.Advance(kSecond);
  ASSERT_TRUE(Eventually([&] { return Acked().size() == 6; }));
  source_->Finish();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(metrics_.commit_failures, 2u);
}

TEST_F(ConcurrentWritersTest, ACommitThatFailsTheJobLetsTheOthersFinish) {
  second_.FailNext(1);  // The first batch's.
  StartWithBothWritersHeld(6, /*fail_on_commit_error=*/true);
  first_.Open();
  second_.Open();
  EXPECT_EQ(Finish().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(control_.state(), JobState::kFailed);
  EXPECT_EQ(Acked(), (std::set<std::string>{"4", "5", "6"}));  // Committed: acknowledged.
  EXPECT_EQ(source_->Read(&FakeSource::nacked_), (std::set<std::string>{"1", "2", "3"}));
  EXPECT_EQ(metrics_.in_flight, 0u);
}

TEST_F(ConcurrentWritersTest, DrainWaitsForEveryCommitInFlight) {
  StartWithBothWritersHeld(7);
  control_.RequestDrain();
  EXPECT_TRUE(Eventually([&] { return source_->Read(&FakeSource::stopped_); }));
  ExpectWaitingThenOpenBoth();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(control_.state(), JobState::kDrained);
  EXPECT_EQ(first_.stored() + second_.stored(), 7u);  // The seventh, staged, commits too.
  EXPECT_EQ(Acked().size(), 7u);
  EXPECT_TRUE(source_->Read(&FakeSource::nacked_).empty());
}

TEST_F(ConcurrentWritersTest, CancelAcknowledgesWhatCommittedAndHandsBackTheRest) {
  StartWithBothWritersHeld(8);
  control_.RequestCancel();
  ExpectWaitingThenOpenBoth();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(control_.state(), JobState::kCancelled);
  EXPECT_EQ(Acked(), (std::set<std::string>{"1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(source_->Read(&FakeSource::nacked_), (std::set<std::string>{"7", "8"}));
  EXPECT_EQ(metrics_.in_flight, 0u);
}

}  // namespace
}  // namespace bikestream
