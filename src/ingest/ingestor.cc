#include "ingest/ingestor.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/clock.h"
#include "common/status.h"

namespace bikestream {

Ingestor::Ingestor(EventSink& sink, IngestOptions options)
    : sink_(sink),
      options_(std::move(options)),
      parser_(options_.rules),
      commits_(options_.concurrent_writers) {
  if (!options_.now) options_.now = [] { return SystemClock().Now(); };
  if (options_.batch_size == 0) options_.batch_size = 1;
  ReserveBatch();
}

void Ingestor::ReserveBatch() {
  constexpr std::size_t kMaxReserved = 1 << 16;
  batch_.events.reserve(std::min(options_.batch_size, kMaxReserved));
}

ParseResult Ingestor::Classify(const IngestMessage& message) {
  if (!message.decode_error.empty())
    return Rejection{Reason::kBadEncoding, std::string(message.decode_error)};
  if (message.truncated) {
    return Rejection{Reason::kTooLong,
                     fmt::format("message exceeds the limit of {} bytes; payload kept truncated",
                                 message.payload.size())};
  }
  return parser_.Parse(message.payload);
}

absl::Status Ingestor::Add(const IngestMessage& message) {
  ++stats_.received;
  ParseResult result = Classify(message);
  if (auto* event = std::get_if<Event>(&result)) {
    batch_.events.push_back(std::move(*event));
  } else {
    auto& rejection = std::get<Rejection>(result);
    // A long message is kept up to the limit that made it too long, as docs/events.md says.
    std::string_view payload = message.payload;
    if (rejection.reason == Reason::kTooLong)
      payload = payload.substr(0, options_.rules.max_message_bytes);
    batch_.dead_letters.push_back(
        DeadLetter{.first_seen = options_.now(),
                   .source = message.source.empty() ? options_.source : std::string(message.source),
                   .message_id = message.message_id.empty()
                                     ? PositionalMessageId(message.position, message.payload)
                                     : std::string(message.message_id),
                   .payload = std::string(payload),
                   .reason = std::string(ReasonCode(rejection.reason)),
                   .error = std::move(rejection.message),
                   .publish_time = message.publish_time});
  }
  return CommitIfFull();
}

absl::Status Ingestor::AddEvent(Event event) {
  ++stats_.received;
  if (std::optional<Rejection> rejection = CheckEvent(event, options_.rules)) {
    batch_.dead_letters.push_back(
        EventLetter(event, rejection->reason, std::move(rejection->message)));
  } else {
    batch_.events.push_back(std::move(event));
  }
  return CommitIfFull();
}

absl::Status Ingestor::CommitIfFull() {
  if (batch_.size() < options_.batch_size) return absl::OkStatus();
  return commits_.has_writers() ? Launch() : Flush();
}

absl::Status Ingestor::Flush() {
  absl::Status status = absl::OkStatus();
  while (!commits_.empty()) status.Update(CollectOldest());
  if (!status.ok()) return status;
  // In order; a failure leaves it and those after it waiting.
  while (!waiting_.empty()) {
    if (auto committed = CommitSettlingRefusals(*waiting_.front()); !committed.ok())
      return committed;
    waiting_.pop_front();
  }
  if (batch_.empty()) return absl::OkStatus();
  if (auto committed = CommitSettlingRefusals(batch_); !committed.ok())
    return committed;  // Stays staged.
  batch_.clear();      // Keeps its room for the next batch.
  return absl::OkStatus();
}

Batch Ingestor::TakeStaged() {
  Batch taken = std::move(batch_);
  batch_ = Batch();
  ReserveBatch();
  return taken;
}

absl::Status Ingestor::Settle(const Batch& batch, const absl::StatusOr<CommitResult>& committed) {
  if (committed.ok()) {
    Count(batch, *committed);
    return absl::OkStatus();
  }
  return SetAsideRefused(batch, committed.status());
}

absl::Status Ingestor::CommitSettlingRefusals(const Batch& batch) {
  return Settle(batch, sink_.Commit(batch));
}

absl::Status Ingestor::SetAsideRefused(const Batch& batch, const absl::Status& error) {
  // A refused dead letter cannot be set aside in turn: the error stands, and the job says so.
  if (!IsRowRefused(error) || batch.events.empty()) return error;
  if (batch.events.size() == 1) {
    Batch set_aside;
    set_aside.dead_letters = batch.dead_letters;
    set_aside.dead_letters.push_back(
        EventLetter(batch.events[0], Reason::kRefusedByWarehouse,
                    fmt::format("the warehouse refused the event: {}", MessageOf(error))));
    absl::StatusOr<CommitResult> committed = sink_.Commit(set_aside);
    if (!committed.ok()) return committed.status();
    Count(set_aside, *committed);
    return absl::OkStatus();
  }
  // Halves, the dead letters with the first. A part that commits stays committed if a later
  // part fails: the retry of the whole batch finds its rows stored (duplicates, not new rows).
  const auto middle = batch.events.begin() + std::ptrdiff_t(batch.events.size() / 2);
  Batch first{{batch.events.begin(), middle}, batch.dead_letters};
  Batch second{{middle, batch.events.end()}, {}};
  if (auto status = CommitSettlingRefusals(first); !status.ok()) return status;
  return CommitSettlingRefusals(second);
}

DeadLetter Ingestor::EventLetter(const Event& event, Reason reason, std::string error) {
  return DeadLetter{.first_seen = options_.now(),
                    .source = options_.source,
                    // Keyed by the event: the same event set aside again is the same dead letter.
                    .message_id = "event:" + event.event_id,
                    .payload = ToJson(event),
                    .reason = std::string(ReasonCode(reason)),
                    .error = std::move(error),
                    .publish_time = 0};
}

absl::Status Ingestor::Launch() {
  absl::Status status = absl::OkStatus();
  if (!commits_.has_idle_writer()) status = CollectOldest();
  commits_.Launch(TakeStaged(), {});
  return status;
}

absl::Status Ingestor::LaunchIfIdle() {
  absl::Status status = absl::OkStatus();
  while (commits_.OldestFinished()) status.Update(CollectOldest());
  if (!commits_.has_idle_writer() || batch_.empty()) return status;
  status.Update(Launch());
  return status;
}

absl::Status Ingestor::CollectOldest() {
  auto oldest = commits_.CollectOldest();
  if (!oldest.result.ok()) {
    waiting_.push_back(std::move(oldest.batch));
    return IsRowRefused(oldest.result.status()) ? absl::OkStatus() : oldest.result.status();
  }
  Count(*oldest.batch, *oldest.result);
  return absl::OkStatus();
}

void Ingestor::Count(const Batch& batch, const CommitResult& committed) {
  stats_.stored += committed.stored;
  stats_.duplicates += committed.duplicates;
  stats_.dead_lettered += committed.dead_lettered;
  ++stats_.commits;
  if (options_.observer) options_.observer->OnCommit(batch.events, committed.newly_stored);
}

namespace {

// FNV-1a: stable across builds and platforms, unlike std::hash.
std::uint64_t StableHash(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash = (hash ^ c) * 1099511628211ull;
  }
  return hash;
}

}  // namespace

std::string PositionalMessageId(std::uint64_t position, std::string_view payload) {
  return fmt::format("{}#{:016x}", position, StableHash(payload));
}

std::string ContentMessageId(std::string_view scope, std::string_view payload) {
  return fmt::format("{}#{:016x}", scope, StableHash(payload));
}

}  // namespace bikestream
