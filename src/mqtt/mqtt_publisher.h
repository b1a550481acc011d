// Publishes to an MQTT topic at QoS 1 (for `simulate --to mqtt://…` and `gbfs --to mqtt://…`).
// libmosquitto's own thread runs the connection, reconnects after a loss and sends again what
// the broker had not acknowledged; Flush waits until the broker has acknowledged everything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "mqtt/mqtt.h"

namespace bikestream::mqtt {

struct PublisherOptions {
  ConnectionOptions connection;                 // The endpoint's topic is the one published to.
  std::size_t max_unacknowledged = 10'000;      // Publish waits while this many are unacknowledged.
  std::function<void(const std::string&)> log;  // Lost connections. Default: none.
};

class Publisher {
 public:
  // Connects, waiting for the broker's answer: fails with its reason when it cannot be reached
  // or refuses the client.
  static absl::StatusOr<std::unique_ptr<Publisher>> Start(PublisherOptions options);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  absl::Status Publish(const std::string& payload);
  // Returns once the broker acknowledged every message published; an error when it refused
  // some (since the last Flush), naming how many and why.
  absl::Status Flush();

  std::uint64_t published() const;

 private:
  explicit Publisher(PublisherOptions options) : options_(std::move(options)) {}
  friend struct PublisherCallbacks;  // libmosquitto's, on its thread.

  const PublisherOptions options_;
  Client client_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status refused_connection_ ABSL_GUARDED_BY(mu_);
  std::uint64_t published_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t acknowledged_ ABSL_GUARDED_BY(mu_) = 0;  // Or refused.
  std::uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;       // Since the last Flush.
  absl::Status last_refusal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bikestream::mqtt
