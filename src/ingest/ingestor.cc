#include "ingest/ingestor.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/clock.h"

namespace bikestream {

Ingestor::Ingestor(EventSink& sink, IngestOptions options)
    : sink_(sink),
      options_(std::move(options)),
      parser_(options_.rules),
      idle_writers_(options_.concurrent_writers) {
  if (!options_.now) options_.now = [] { return SystemClock().Now(); };
  if (options_.batch_size == 0) options_.batch_size = 1;
  ReserveBatch();
}

void Ingestor::ReserveBatch() {
  constexpr std::size_t kMaxReserved = 1 << 16;
  batch_.events.reserve(std::min(options_.batch_size, kMaxReserved));
}

absl::Status Ingestor::Add(const IngestMessage& message) {
  ++stats_.received;
  ParseResult result = message.truncated
                           ? ParseResult(Rejection{Reason::kTooLong,
                                                   fmt::format("message exceeds the limit of {} "
                                                               "bytes; payload kept truncated",
                                                               message.payload.size())})
                           : parser_.Parse(message.payload);
  if (auto* event = std::get_if<Event>(&result)) {
    batch_.events.push_back(std::move(*event));
  } else {
    auto& rejection = std::get<Rejection>(result);
    batch_.dead_letters.push_back(DeadLetter{.first_seen = options_.now(),
                                             .source = message.source.empty()
                                                           ? options_.source
                                                           : std::string(message.source),
                                             .message_id = message.message_id.empty()
                                                               ? PositionalMessageId(
                                                                     message.position,
                                                                     message.payload)
                                                               : std::string(message.message_id),
                                             .payload = std::string(message.payload),
                                             .reason = std::string(ReasonCode(rejection.reason)),
                                             .error = std::move(rejection.message),
                                             .publish_time = message.publish_time});
  }
  if (batch_.size() < options_.batch_size) return absl::OkStatus();
  return options_.concurrent_writers.empty() ? Flush() : Launch();
}

absl::Status Ingestor::Flush() {
  absl::Status status = absl::OkStatus();
  while (!in_flight_.empty()) status.Update(CollectOldest());
  if (!status.ok()) return status;
  // In order; a failure leaves it and those after it waiting.
  while (!waiting_.empty()) {
    absl::StatusOr<CommitResult> committed = sink_.Commit(*waiting_.front());
    if (!committed.ok()) return committed.status();
    Count(*waiting_.front(), *committed);
    waiting_.pop_front();
  }
  if (batch_.empty()) return absl::OkStatus();
  absl::StatusOr<CommitResult> committed = sink_.Commit(batch_);
  if (!committed.ok()) return committed.status();  // Stays staged.
  Count(batch_, *committed);
  batch_.clear();  // Keeps its room for the next batch.
  return absl::OkStatus();
}

absl::Status Ingestor::Launch() {
  absl::Status status = absl::OkStatus();
  if (idle_writers_.empty()) status = CollectOldest();
  EventSink* writer = idle_writers_.back();
  idle_writers_.pop_back();
  auto batch = std::make_unique<Batch>(std::move(batch_));
  batch_ = Batch();
  ReserveBatch();
  auto result = std::async(std::launch::async, [writer, staged = batch.get()] { return writer->Commit(*staged); });
  in_flight_.push_back(InFlight{std::move(batch), writer, std::move(result)});
  return status;
}

absl::Status Ingestor::CollectOldest() {
  InFlight oldest = std::move(in_flight_.front());
  in_flight_.pop_front();
  absl::StatusOr<CommitResult> committed = oldest.result.get();
  idle_writers_.push_back(oldest.writer);
  if (!committed.ok()) {
    waiting_.push_back(std::move(oldest.batch));
    return committed.status();
  }
  Count(*oldest.batch, *committed);
  return absl::OkStatus();
}

void Ingestor::Count(const Batch& batch, const CommitResult& committed) {
  stats_.stored += committed.stored;
  stats_.duplicates += committed.duplicates;
  stats_.dead_lettered += committed.dead_lettered;
  ++stats_.commits;
  if (options_.observer) options_.observer->OnCommit(batch.events, committed.newly_stored);
}

std::string PositionalMessageId(std::uint64_t position, std::string_view payload) {
  // FNV-1a: stable across builds and platforms, unlike std::hash.
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : payload) {
    hash = (hash ^ c) * 1099511628211ull;
  }
  return fmt::format("{}#{:016x}", position, hash);
}

}  // namespace bikestream
