// Publishes payloads to a topic in batches (at most 1000 messages and 10 MB a request) with
// several requests in flight.
//
// Publish() blocks while `max_in_flight_batches` requests are outstanding, so memory stays
// bounded. Failed requests are retried by the connection (wrap it with
// MakeRetryingConnection); a batch that still fails is counted and its first error is kept.
// Thread-compatible: one thread calls Publish/Flush.
#pragma once

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "pubsub/pubsub.h"

namespace bikestream::pubsub {

struct PublisherOptions {
  std::string project;
  std::string topic;
  std::size_t max_batch_messages = 1000;          // Default: 1000 (the service's limit).
  std::size_t max_batch_bytes = 9 * 1024 * 1024;  // Default: 9 MiB, under the 10 MB limit.
  std::chrono::milliseconds max_batch_delay{50};  // Send a partial batch after this long.
  Clock* clock = nullptr;                         // Default: the system clock.
  int concurrency = 4;                            // Requests in flight. Default: 4.
};

struct PublisherStats {
  std::uint64_t published = 0;  // Messages the service acknowledged.
  std::uint64_t failed = 0;     // Messages whose request failed after retries.
  std::uint64_t requests = 0;
};

class BatchPublisher {
 public:
  // `connection` must outlive the publisher.
  BatchPublisher(PubsubConnection& connection, PublisherOptions options);
  ~BatchPublisher();  // Flushes.

  void Publish(std::string payload);

  // Sends what is batched and waits for every request. Returns the first error since the last
  // Flush, if any: a caller that publishes again after a failure (the gbfs poller retrying a
  // hand-off) learns whether the retry went through.
  absl::Status Flush();

  PublisherStats stats() const;

 private:
  void SendBatch()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);  // Hands the current batch to the workers.
  void Work();
  void Ticker();

  PubsubConnection& connection_;
  const PublisherOptions options_;
  Clock& clock_;
  mutable absl::Mutex mutex_;
  absl::CondVar changed_;
  std::vector<std::string> batch_ ABSL_GUARDED_BY(mutex_);
  std::size_t batch_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  TimestampMicros batch_started_ ABSL_GUARDED_BY(mutex_) = 0;
  std::deque<std::vector<std::string>> ready_ ABSL_GUARDED_BY(mutex_);
  int busy_ ABSL_GUARDED_BY(mutex_) = 0;
  bool closing_ ABSL_GUARDED_BY(mutex_) = false;
  PublisherStats stats_ ABSL_GUARDED_BY(mutex_);
  absl::Status first_error_ ABSL_GUARDED_BY(mutex_);  // Since the last Flush.
  // Set in the constructor, read only after: not guarded.
  std::vector<std::thread> workers_;
  std::thread ticker_;
};

}  // namespace bikestream::pubsub
