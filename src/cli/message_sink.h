// Where `simulate` and `gbfs` send their messages: stdout (JSON lines) or a Pub/Sub topic.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/pubsub_flags.h"

namespace bikestream::cli {

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual absl::Status Send(const std::string& payload) = 0;
  // Returns once every message sent is delivered: stdout flushed, or Pub/Sub acknowledged.
  virtual absl::Status Flush() = 0;
  // Flushes, and says on stderr what was delivered where that is news (Pub/Sub's count).
  virtual absl::Status Finish() = 0;
};

struct MessageSinkOptions {
  std::string to = "stdout";     // stdout, or pubsub (the topic of the Pub/Sub flags).
  bool published_lines = false;  // Each message as "Published: {json}", as the original script.
  bool confirm_each = false;     // Pub/Sub: wait for each message, then print it as published.
  int publish_concurrency = 4;   // Pub/Sub: publish requests in flight.
};

// Opens the sink; for Pub/Sub, fails fast, with the service's own words, when the topic is not
// there.
absl::StatusOr<std::unique_ptr<MessageSink>> OpenMessageSink(const MessageSinkOptions& options, PubsubFlags& pubsub);

}  // namespace bikestream::cli
