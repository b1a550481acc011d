// The ingest core: validates messages and commits them to the warehouse in batches.
//
// Delivery contract: a message handed to Add() is durable once a later Add() or Flush() that
// commits its batch has returned OK; nothing is durable before that, so a source may only
// acknowledge messages after such a call. (With concurrent writers, Add() hands a full batch
// over without waiting for its commit: then only Flush() says so.) If a commit fails, the batch
// stays staged and the next Flush() retries it. Valid events are stored once per event_id;
// invalid messages become dead letters with the reason, and so does a valid event the
// warehouse refuses (RowRefused): the rest of its batch is stored. Not thread-safe: one thread
// drives an Ingestor.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "event/event.h"
#include "ingest/concurrent_commits.h"
#include "warehouse/event_sink.h"

namespace bikestream {

struct IngestMessage {
  std::string_view payload = {};
  // Identity within the source; keys its dead letter. When empty, the dead letter is keyed by
  // PositionalMessageId(position, payload).
  std::string_view message_id = {};
  std::uint64_t position = 0;        // Order within the source, e.g. the line number.
  bool truncated = false;            // The payload was cut at the source's size limit.
  TimestampMicros publish_time = 0;  // When the broker accepted it; 0 when unknown.
  // Names the input in its dead letter where it differs from IngestOptions::source (a push
  // endpoint serving several subscriptions). Empty: IngestOptions::source.
  std::string_view source = {};
  // Non-empty: the source could not decode the message (e.g. Pub/Sub data that is not
  // base64), which then becomes a bad_encoding dead letter with this message.
  std::string_view decode_error = {};
};

// Told about each commit, e.g. to keep streaming features up to date. Called on the thread
// that drives the Ingestor.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  // After each successful commit: the batch's events and which of them were new to the
  // warehouse (a redelivered event is not).
  virtual void OnCommit(const std::vector<Event>& events,
                        const std::vector<bool>& newly_stored) = 0;
  // The source has had nothing for a while.
  virtual void OnIdle() {}
};

struct IngestStats {
  std::uint64_t received = 0;
  std::uint64_t stored = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t commits = 0;
};

struct IngestOptions {
  std::string source;  // Names the input in dead letters. Default: "".
  // Messages per transaction; SIZE_MAX leaves every commit to Flush(). Default: 50,000.
  std::size_t batch_size = 50'000;
  ValidationRules rules;                 // Default: the contract in docs/design.md.
  std::function<TimestampMicros()> now;  // Clock for first_seen. Default: the system clock.
  CommitObserver* observer = nullptr;    // Told of each commit. Default: none.
  // Connections to the same warehouse that commit full batches, each on a thread of its own:
  // while one commits a batch, the next fills and goes to another, so the engine works on
  // several at once. Commits may then finish out of order, which dedup by event_id makes
  // harmless; the observer still hears of them in order (a batch with a refused row: once
  // Flush() has set the row aside), on the driving thread. The
  // Ingestor's own sink stays with the driving thread (the observer may write to its store).
  // Default: none (each commit waits, on the Ingestor's sink).
  std::vector<EventSink*> concurrent_writers;
};

class Ingestor {
 public:
  // `sink` must outlive the Ingestor.
  Ingestor(EventSink& sink, IngestOptions options);

  // Validates and stages one message; commits the batch once it is full.
  absl::Status Add(const IngestMessage& message);

  // The same for an event made in process (no JSON between: `gbfs --to warehouse`): it is
  // checked as a parsed one would be (CheckEvent), and an event that fails becomes a dead
  // letter keyed by its event_id, its payload the event's JSON.
  absl::Status AddEvent(Event event);

  // With concurrent writers: collects the commits that have finished, then hands what is
  // staged to an idle writer if there is one. Never waits: batches grow while the writers are
  // busy (a group commit), up to IngestOptions::batch_size.
  absl::Status LaunchIfIdle();

  // Commits whatever is staged and waits for every commit in flight. OK when nothing is.
  absl::Status Flush();

  // For a caller that runs its own concurrent commits (the streaming runner, which
  // acknowledges each batch after its own commit): moves what is staged out as one batch, to
  // be committed on another connection to the same warehouse, and then Settle()d here.
  Batch TakeStaged();
  // Counts a batch committed elsewhere and tells the observer. If the warehouse refused a row,
  // commits the batch again on the Ingestor's own sink, the refused rows set aside. OK when
  // the batch is committed; else the error, and nothing is counted of what failed.
  absl::Status Settle(const Batch& batch, const absl::StatusOr<CommitResult>& committed);

  // Drops what is staged, after a failed Flush() whose messages the source will redeliver.
  void Discard() {
    batch_.clear();
    waiting_.clear();
  }

  // Tells the observer, if any, that the source has had nothing for a while.
  void NotifyIdle() {
    if (options_.observer) options_.observer->OnIdle();
  }

  // Messages staged, in flight or failed: not yet known to be committed.
  std::size_t pending() const {
    std::size_t count = batch_.size();
    for (const auto& batch : waiting_) count += batch->size();
    return count + commits_.messages();
  }
  // Batches whose concurrent commit failed or had rows refused: the next Flush() commits them.
  bool has_waiting() const { return !waiting_.empty(); }
  const IngestStats& stats() const { return stats_; }

 private:
  // The event in `message`, or why it is none. Allocates nothing for a good message beyond
  // the event itself: this runs once per message.
  ParseResult Classify(const IngestMessage& message);
  // Hands the staged batch to an idle writer, waiting for the oldest commit if none is.
  absl::Status Launch();
  // Waits for the oldest commit in flight and counts it, or keeps its batch waiting if it failed
  // (OK when only rows were refused: Flush() sets them aside).
  absl::Status CollectOldest();
  // Commits `batch` on the Ingestor's sink and counts it. When the warehouse refuses rows, the
  // batch is halved until each refused event stands alone; it becomes a dead letter with the
  // warehouse's reason, and the rest is stored (each part counted as it commits).
  absl::Status CommitSettlingRefusals(const Batch& batch);
  // The same for a batch whose commit failed with `error`: nothing more unless the warehouse
  // refused a row (the error stands).
  absl::Status SetAsideRefused(const Batch& batch, const absl::Status& error);
  // Commits the staged batch once it is full: at once, or on a concurrent writer.
  absl::Status CommitIfFull();
  // A dead letter for an event set aside (refused by the warehouse, or failing CheckEvent).
  DeadLetter EventLetter(const Event& event, Reason reason, std::string error);
  void ReserveBatch();
  // Adds a commit to the stats and tells the observer.
  void Count(const Batch& batch, const CommitResult& committed);

  EventSink& sink_;
  IngestOptions options_;
  EventParser parser_;
  Batch batch_;
  IngestStats stats_;
  ConcurrentCommits<std::monostate> commits_;  // On the concurrent writers, if any.
  // What the next Flush() commits first, in order: batches whose concurrent commit failed.
  std::deque<std::unique_ptr<Batch>> waiting_;
};

// A dead letter's id for a message without one of its own: its position and a hash of its
// bytes, so a re-read of the same input is recognised and different input is not.
std::string PositionalMessageId(std::uint64_t position, std::string_view payload);
// A dead letter's id for a message known only by its bytes (an MQTT message): `scope` (its
// topic) and a hash of the bytes, so the same bytes sent again are recognised.
std::string ContentMessageId(std::string_view scope, std::string_view payload);

}  // namespace bikestream
