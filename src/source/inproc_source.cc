#include "source/inproc_source.h"

#include <chrono>

#include "absl/status/status.h"

namespace bikestream {
namespace {
// How long Receive() waits for a message when none is waiting.
constexpr auto kReceiveWait = std::chrono::milliseconds(50);
}  // namespace

bool InprocSource::Publish(std::string payload) {
  return queue_.Push(Queued{std::move(payload), ++published_});
}

absl::StatusOr<Received> InprocSource::Receive(std::size_t max_messages) {
  std::vector<Queued> popped;
  Received received;
  received.exhausted = !queue_.PopBatch(popped, max_messages, kReceiveWait);
  received.messages.reserve(popped.size());
  for (Queued& q : popped) {
    // Messages have no id of their own: dead letters are keyed by position.
    received.messages.push_back(SourceMessage{.ack_id = std::to_string(q.position),
                                              .payload = std::move(q.payload),
                                              .position = q.position});
  }
  return received;
}

absl::Status InprocSource::Nack(const std::vector<std::string>& ack_ids, TimestampMicros) {
  if (ack_ids.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError("the in-process broker cannot redeliver");
}

}  // namespace bikestream
