// Where `simulate` and `gbfs` send their messages: stdout (JSON lines), a Pub/Sub topic or an
// MQTT topic.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/mqtt_flags.h"
#include "cli/pubsub_flags.h"

namespace bikestream::cli {

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual absl::Status Send(const std::string& payload) = 0;
  // Returns once every message sent is delivered: stdout flushed, or the broker acknowledged.
  virtual absl::Status Flush() = 0;
  // Flushes, and says on stderr what was delivered where that is news (a broker's count).
  virtual absl::Status Finish() = 0;
};

struct MessageSinkOptions {
  std::string to = "stdout";     // stdout, pubsub (the topic of the Pub/Sub flags), or an mqtt:// URL.
  bool published_lines = false;  // Each message as "Published: {json}", as the original script.
  bool confirm_each = false;     // A broker: wait for each message, then print it as published.
  int publish_concurrency = 4;   // Pub/Sub: publish requests in flight.
};

// Opens the sink; fails fast, with the service's own words, when a Pub/Sub topic is not there
// or an MQTT broker cannot be reached or refuses the client.
absl::StatusOr<std::unique_ptr<MessageSink>> OpenMessageSink(const MessageSinkOptions& options, PubsubFlags& pubsub,
                                                             const MqttFlags& mqtt);

// Checks --to: one of `names`, or an mqtt:// or mqtts:// URL.
CLI::Validator MessageDestinations(std::vector<std::string> names);

}  // namespace bikestream::cli
