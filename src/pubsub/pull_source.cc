#include "pubsub/pull_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace bikestream::pubsub {
namespace {

// The service's limits: messages per pull, ack ids per request.
constexpr std::size_t kMaxPerPull = 1000;
constexpr std::size_t kMaxAckIdsPerRequest = 1000;
// After a pull too large to read, this many that fit before a pull asks for twice as many.
constexpr int kFittingPullsBeforeMore = 100;

// Calls `send` with `ids` in requests of at most kMaxAckIdsPerRequest; returns the first error.
absl::Status InRequests(const std::vector<std::string>& ids,
                        const std::function<absl::Status(const std::vector<std::string>&)>& send) {
  absl::Status first = absl::OkStatus();
  for (std::size_t i = 0; i < ids.size(); i += kMaxAckIdsPerRequest) {
    first.Update(
        send({ids.begin() + i, ids.begin() + std::min(ids.size(), i + kMaxAckIdsPerRequest)}));
  }
  return first;
}

int CeilSeconds(TimestampMicros micros) {
  return int((micros + kMicrosPerSecond - 1) / kMicrosPerSecond);
}

}  // namespace

PullSource::PullSource(std::unique_ptr<PubsubConnection> connection, PullSourceOptions options)
    : connection_(std::move(connection)),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock()) {}

std::string PullSource::Name() const {
  return fmt::format("pubsub:projects/{}/subscriptions/{}", options_.project,
                     options_.subscription);
}

absl::StatusOr<Received> PullSource::Receive(std::size_t max_messages) {
  Received received;
  if (stopped_) {
    received.exhausted = true;
    return received;
  }
  std::size_t at_most = pull_at_most_.load();
  auto pulled = connection_->Pull(options_.project, options_.subscription,
                                  int(std::min({max_messages, kMaxPerPull, at_most})));
  if (absl::IsOutOfRange(pulled.status()) && at_most > 1) {
    // A reply past its bound (common/limits.h): the messages are large; ask for fewer. Those
    // pulled and not read come again once their lease runs out.
    pull_at_most_.compare_exchange_strong(at_most, at_most / 2);
    fitting_pulls_ = 0;
    return received;
  }
  if (!pulled.ok()) return pulled.status();
  // Many pulls that fit: ask for more again, slowly (each one too large costs a lease's wait).
  if (at_most < kMaxPerPull && ++fitting_pulls_ >= kFittingPullsBeforeMore) {
    fitting_pulls_ = 0;
    pull_at_most_.compare_exchange_strong(at_most, std::min(kMaxPerPull, at_most * 2));
  }
  if (pulled->empty()) {
    clock_.SleepFor(options_.idle_pull_delay, [this] { return stopped_.load(); });
    return received;
  }
  received.messages.reserve(pulled->size());
  for (ReceivedMessage& m : *pulled) {
    received.messages.push_back(SourceMessage{.ack_id = std::move(m.ack_id),
                                              .payload = std::move(m.message.data),
                                              .message_id = std::move(m.message.message_id),
                                              .publish_time = m.message.publish_time});
  }
  return received;
}

absl::Status PullSource::Ack(const std::vector<std::string>& ack_ids) {
  return InRequests(ack_ids, [this](const std::vector<std::string>& chunk) {
    return connection_->Acknowledge(options_.project, options_.subscription, chunk);
  });
}

absl::Status PullSource::Nack(const std::vector<std::string>& ack_ids, DurationMicros delay) {
  return ModifyAckDeadline(ack_ids, delay);
}

absl::Status PullSource::ExtendLeases(const std::vector<std::string>& ack_ids,
                                      DurationMicros lease) {
  return ModifyAckDeadline(ack_ids, lease);
}

// A deadline of 0 hands the messages back at once; any other is rounded up to whole seconds.
absl::Status PullSource::ModifyAckDeadline(const std::vector<std::string>& ack_ids,
                                           TimestampMicros deadline) {
  return InRequests(ack_ids, [&](const std::vector<std::string>& chunk) {
    return connection_->ModifyAckDeadline(options_.project, options_.subscription, chunk,
                                          CeilSeconds(deadline));
  });
}

}  // namespace bikestream::pubsub
