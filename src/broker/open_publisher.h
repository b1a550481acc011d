// Where `simulate` and `gbfs` send their messages: stdout (JSON lines), a Pub/Sub topic or an
// MQTT topic, opened by name as a `MessagePublisher` (source/message_publisher.h): one line in
// open_publisher.cc's table per kind of destination.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mqtt/mqtt.h"
#include "pubsub/pubsub.h"
#include "source/message_publisher.h"

namespace bikestream {

struct PublisherOptions {
  std::string to = "stdout";     // stdout, pubsub (the topic below), or an mqtt:// or mqtts:// URL.
  bool published_lines = false;  // Each message as "Published: {json}", as the original script.
  bool confirm_each = false;     // A broker: wait for each message, then print it as published
                                 // (and no count at the end).

  // Pub/Sub: where the service is, the topic, and publish requests in flight.
  pubsub::ConnectionOptions pubsub;
  std::string project;
  std::string topic;
  int publish_concurrency = 4;

  // MQTT: the session (client id, credentials, TLS); where the broker is comes from `to`.
  mqtt::ConnectionOptions mqtt;
  std::function<void(const std::string&)> log;  // A broker client's own lines (lost connections).
};

// Opens the publisher; fails fast, with the service's own words, when a Pub/Sub topic is not
// there or an MQTT broker cannot be reached or refuses the client.
absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenPublisher(const PublisherOptions& options);

}  // namespace bikestream
