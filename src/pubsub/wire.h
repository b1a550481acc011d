// Pub/Sub's wire formats that bikestream reads and writes outside the REST client: resource
// names, message data (standard Base64, padded) and the JSON envelope of a push
// subscription's request.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "event/timestamp.h"

namespace bikestream::pubsub {

// kInvalidArgument, naming the flag and the rule, unless `project` is a project id (lower-case
// letters, digits, hyphens, '.' and ':' of a domain-scoped id; starting with a letter) and
// `topic` and `subscription` are resource names (3 to 255 letters, digits and `-_.~+`,
// starting with a letter, not with "goog"). Empty names are not checked. Names outside these
// rules would make request paths that the service refuses, or that mean something else.
absl::Status ValidateResourceNames(std::string_view project, std::string_view topic,
                                   std::string_view subscription);

std::string EncodeMessageData(std::string_view data);
// kInvalidArgument when `text` is not padded standard Base64.
absl::StatusOr<std::string> DecodeMessageData(std::string_view text);

// One message of a push request:
//   {"message":{"data":"…","messageId":"…","publishTime":"…"},"subscription":"projects/…"}
struct PushedMessage {
  std::string payload;       // The data, decoded; as sent when it is not Base64 (the
                             // ingest job then dead-letters it rather than losing it).
  std::string decode_error;  // Why the data could not be decoded; empty when it was.
  std::string message_id;
  std::string subscription;          // Empty when the envelope does not say.
  TimestampMicros publish_time = 0;  // 0 when missing or unreadable.
};

// kInvalidArgument, with the text for a 400 reply, when `body` is not a push envelope.
absl::StatusOr<PushedMessage> ParsePushEnvelope(std::string_view body);

}  // namespace bikestream::pubsub
