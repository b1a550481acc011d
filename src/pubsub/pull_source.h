// A Pub/Sub pull subscription as an event source (source/event_source.h): pulls, acknowledges,
// hands back and extends leases through a PubsubConnection.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "pubsub/pubsub.h"
#include "source/event_source.h"

namespace bikestream::pubsub {

struct PullSourceOptions {
  std::string project;
  std::string subscription;
  DurationMicros idle_pull_delay = 100 * kMicrosPerMilli;  // After an empty pull. Default: 100 ms.
  Clock* clock = nullptr;                                  // Default: the system clock.
};

class PullSource final : public EventSource {
 public:
  PullSource(std::unique_ptr<PubsubConnection> connection, PullSourceOptions options);

  std::string Name() const override;
  absl::StatusOr<Received> Receive(std::size_t max_messages) override;
  absl::Status Ack(const std::vector<std::string>& ack_ids) override;
  absl::Status Nack(const std::vector<std::string>& ack_ids, DurationMicros delay) override;
  absl::Status ExtendLeases(const std::vector<std::string>& ack_ids, DurationMicros lease) override;
  void StopReceiving() override { stopped_ = true; }

 private:
  absl::Status ModifyAckDeadline(const std::vector<std::string>& ack_ids, TimestampMicros deadline);

  std::unique_ptr<PubsubConnection> connection_;
  const PullSourceOptions options_;
  Clock& clock_;
  std::atomic<bool> stopped_ = false;
  // Messages a pull asks for at most: halved after a reply too large to read, doubled again
  // after many that fit.
  std::atomic<std::size_t> pull_at_most_{1000};
  std::atomic<int> fitting_pulls_{0};
};

}  // namespace bikestream::pubsub
