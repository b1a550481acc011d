#include "pubsub/publisher.h"

#include <utility>

#include "common/mutex.h"

namespace bikestream::pubsub {

BatchPublisher::BatchPublisher(PubsubConnection& connection, PublisherOptions options)
    : connection_(connection),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock()) {
  for (int i = 0; i < std::max(1, options_.concurrency); ++i)
    workers_.emplace_back([this] { Work(); });
  ticker_ = std::thread([this] { Ticker(); });
}

BatchPublisher::~BatchPublisher() {
  Flush().IgnoreError();
  {
    MutexLock lock(&mutex_);
    closing_ = true;
  }
  changed_.SignalAll();
  for (auto& worker : workers_) worker.join();
  ticker_.join();
}

void BatchPublisher::Publish(std::string payload) {
  MutexLock lock(&mutex_);
  // Flow control: no more than one queued batch per worker beyond those being sent.
  while (ready_.size() >= workers_.size()) Wait(changed_, &mutex_);
  if (batch_.empty()) batch_started_ = clock_.Now();
  batch_bytes_ += payload.size();
  batch_.push_back(std::move(payload));
  if (batch_.size() >= options_.max_batch_messages || batch_bytes_ >= options_.max_batch_bytes) {
    SendBatch();
  }
}

void BatchPublisher::SendBatch() {
  if (batch_.empty()) return;
  ready_.push_back(std::move(batch_));
  batch_.clear();
  batch_bytes_ = 0;
  changed_.SignalAll();
}

absl::Status BatchPublisher::Flush() {
  MutexLock lock(&mutex_);
  SendBatch();
  while (!ready_.empty() || busy_ != 0) Wait(changed_, &mutex_);
  return std::exchange(first_error_, absl::OkStatus());
}

PublisherStats BatchPublisher::stats() const {
  MutexLock lock(&mutex_);
  return stats_;
}

void BatchPublisher::Work() {
  while (true) {
    std::vector<std::string> batch;
    {
      MutexLock lock(&mutex_);
      while (!closing_ && ready_.empty()) Wait(changed_, &mutex_);
      if (ready_.empty()) return;  // Closing, and nothing left to send.
      batch = std::move(ready_.front());
      ready_.pop_front();
      ++busy_;
    }
    auto ids = connection_.Publish(options_.project, options_.topic, batch);
    MutexLock lock(&mutex_);
    --busy_;
    ++stats_.requests;
    if (ids.ok()) {
      stats_.published += batch.size();
    } else {
      stats_.failed += batch.size();
      if (first_error_.ok()) first_error_ = ids.status();
    }
    changed_.SignalAll();
  }
}

void BatchPublisher::Ticker() {
  // A slow producer's partial batch still goes out within max_batch_delay.
  MutexLock lock(&mutex_);
  while (!closing_) {
    WaitWithTimeout(changed_, &mutex_, absl::FromChrono(options_.max_batch_delay));
    if (!batch_.empty() &&
        clock_.Now() - batch_started_ >=
            TimestampMicros(options_.max_batch_delay.count()) * kMicrosPerMilli) {
      SendBatch();
    }
  }
}

}  // namespace bikestream::pubsub
