// Batches committing on concurrent writers (connections of their own to one warehouse), each
// on a thread of its own, collected oldest first by the one thread that launches them. What a
// caller keeps beside each batch (the streaming runner: its messages) rides along as `Payload`;
// what a failed commit means is the caller's to decide.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "warehouse/event_sink.h"

namespace bikestream {

template <typename Payload>
class ConcurrentCommits {
 public:
  // A commit collected: its batch, what rode with it, and how it ended.
  struct Finished {
    std::unique_ptr<Batch> batch;
    Payload payload;
    absl::StatusOr<CommitResult> result;
  };

  // `writers` must outlive this. Destroying it waits for the commits in flight and drops their
  // results, as for any batch not known to be committed (a caller stopping early, e.g. on a
  // read error: its input comes again, and the warehouse stores each event once).
  explicit ConcurrentCommits(std::vector<EventSink*> writers) : idle_(std::move(writers)) {}

  bool has_writers() const { return !idle_.empty() || !in_flight_.empty(); }
  bool has_idle_writer() const { return !idle_.empty(); }
  bool empty() const { return in_flight_.empty(); }

  // Commits `batch` on an idle writer (has_idle_writer() must hold) and returns at once.
  void Launch(Batch batch, Payload payload) {
    EventSink* writer = idle_.back();
    idle_.pop_back();
    auto owned = std::make_unique<Batch>(std::move(batch));
    auto result = std::async(std::launch::async,
                             [writer, staged = owned.get()] { return writer->Commit(*staged); });
    in_flight_.push_back({std::move(owned), std::move(payload), writer, std::move(result)});
  }

  // Whether the oldest commit in flight has finished (false when none is in flight).
  bool OldestFinished() const {
    return !in_flight_.empty() &&
           in_flight_.front().result.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

  // Waits for the oldest commit in flight (one must be) and frees its writer. Oldest first, so
  // that a caller settles its batches in the order they were launched.
  Finished CollectOldest() {
    InFlight oldest = std::move(in_flight_.front());
    in_flight_.pop_front();
    idle_.push_back(oldest.writer);
    return {std::move(oldest.batch), std::move(oldest.payload), oldest.result.get()};
  }

  // Messages in the batches in flight.
  std::size_t messages() const {
    std::size_t count = 0;
    for (const InFlight& commit : in_flight_) count += commit.batch->size();
    return count;
  }

 private:
  struct InFlight {
    std::unique_ptr<Batch> batch;  // Where the writer's thread reads it, until `result` is ready.
    Payload payload;
    EventSink* writer = nullptr;
    // After `batch`: destroyed first, and an std::async future's destructor waits for the
    // thread that reads the batch.
    std::future<absl::StatusOr<CommitResult>> result;
  };

  std::vector<EventSink*> idle_;    // Writers not committing now.
  std::deque<InFlight> in_flight_;  // Oldest first.
};

}  // namespace bikestream
