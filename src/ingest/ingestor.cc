#include "ingest/ingestor.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace bikestream {
namespace {

TimestampMicros SystemNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Ingestor::Ingestor(Warehouse& warehouse, IngestOptions options)
    : warehouse_(warehouse), options_(std::move(options)), parser_(options_.rules) {
  if (!options_.now) options_.now = SystemNow;
  if (options_.batch_size == 0) options_.batch_size = 1;
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
                                             .source = options_.source,
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
  // Retried where they failed, before anything staged after them.
  while (!failed_.empty()) {
    std::unique_ptr<Batch> retry = std::move(failed_.front());
    failed_.erase(failed_.begin());
    if (auto retried = CommitNow(std::move(retry)); !retried.ok()) return retried;
  }
  if (batch_.empty()) return absl::OkStatus();
  auto staged = std::make_unique<Batch>(std::move(batch_));
  batch_ = Batch();
  return CommitNow(std::move(staged));
}

absl::Status Ingestor::CommitNow(std::unique_ptr<Batch> batch) {
  absl::StatusOr<CommitResult> committed = warehouse_.Commit(*batch);
  if (!committed.ok()) {
    // Back where it was, in front of anything staged since.
    failed_.insert(failed_.begin(), std::move(batch));
    return committed.status();
  }
  return Account(std::move(batch), std::move(committed));
}

absl::Status Ingestor::Launch() {
  if (idle_writers_.empty() && in_flight_.empty()) idle_writers_ = options_.concurrent_writers;
  absl::Status status = absl::OkStatus();
  if (idle_writers_.empty()) status = CollectOldest();
  Warehouse* writer = idle_writers_.back();
  idle_writers_.pop_back();
  auto batch = std::make_unique<Batch>(std::move(batch_));
  batch_ = Batch();
  auto result = std::async(std::launch::async, [writer, staged = batch.get()] { return writer->Commit(*staged); });
  in_flight_.push_back(InFlight{std::move(batch), writer, std::move(result)});
  return status;
}

absl::Status Ingestor::CollectOldest() {
  InFlight oldest = std::move(in_flight_.front());
  in_flight_.pop_front();
  absl::StatusOr<CommitResult> committed = oldest.result.get();
  idle_writers_.push_back(oldest.writer);
  return Account(std::move(oldest.batch), std::move(committed));
}

absl::Status Ingestor::Account(std::unique_ptr<Batch> batch, absl::StatusOr<CommitResult> committed) {
  if (!committed.ok()) {
    failed_.push_back(std::move(batch));
    return committed.status();
  }
  stats_.stored += committed->stored;
  stats_.duplicates += committed->duplicates;
  stats_.dead_lettered += committed->dead_lettered;
  ++stats_.commits;
  if (options_.observer) options_.observer->OnCommit(batch->events, committed->newly_stored);
  return absl::OkStatus();
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
