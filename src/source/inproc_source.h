// The in-process broker as an event source: a producer thread publishes into a bounded queue
// (Publish blocks while it is full, so memory stays flat); the runner receives from it.
//
// The broker keeps nothing once a message is received, so it cannot redeliver: a job on it
// fails on a commit error (StreamingOptions::fail_on_commit_error) rather than hand back.
#pragma once

#include <atomic>
#include <string>

#include "common/bounded_queue.h"
#include "source/event_source.h"

namespace bikestream {

class InprocSource final : public EventSource {
 public:
  InprocSource(std::string name, std::size_t capacity) : name_(std::move(name)), queue_(capacity) {}

  // Producer side. Blocks while the queue is full; false once the source stopped receiving.
  bool Publish(std::string payload);
  // No more messages: Receive() reports exhausted once the queue is empty.
  void Finish() { queue_.Close(); }

  std::string Name() const override { return name_; }
  absl::StatusOr<Received> Receive(std::size_t max_messages) override;
  absl::Status Ack(const std::vector<std::string>&) override { return absl::OkStatus(); }
  absl::Status Nack(const std::vector<std::string>& ack_ids, DurationMicros delay) override;
  void StopReceiving() override { queue_.Close(); }

 private:
  struct Queued {
    std::string payload;
    std::uint64_t position;
  };

  const std::string name_;
  BoundedQueue<Queued> queue_;
  std::atomic<std::uint64_t> published_ = 0;
};

}  // namespace bikestream
