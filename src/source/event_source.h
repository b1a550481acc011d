// Where a streaming job's messages come from: a Pub/Sub subscription (pull or push), the
// in-process broker, an MQTT topic — each an adapter behind this interface,
// driven by the one streaming runner (job/streaming_runner.h).
//
// Delivery contract: every message handed out by Receive() stays the source's to redeliver
// until the runner acknowledges it (Ack), which it does only after the commit that stores the
// message's row or dead-letter row. A message handed back (Nack) or never acknowledged comes
// again later; the warehouse's dedup by event_id absorbs the repeat. Implementations are
// thread-safe: the runner receives on several threads while it acknowledges on another.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time.h"

namespace bikestream {

struct SourceMessage {
  std::string ack_id;      // The source's handle for Ack, Nack and ExtendLeases.
  std::string payload;     // The bytes as received.
  std::string message_id;  // Identity within the source: keys its dead letter. Empty: by position.
  std::uint64_t position = 0;  // Order within the source, for a message without an id.
  std::string origin;  // Names the origin in dead letters where it varies by message (a push
                       // endpoint serving several subscriptions). Empty: the source's Name().
  TimestampMicros publish_time = 0;  // When the broker accepted it; 0 when unknown.
  // Why the source could not decode the message (payload then holds the bytes as received):
  // the message becomes a bad_encoding dead letter. Empty: decoded.
  std::string decode_error;
};

struct Received {
  std::vector<SourceMessage> messages;
  bool exhausted =
      false;  // Nothing more will come: the input ended, or StopReceiving() was called.
};

// The errors of Receive() that waiting cannot cure: the job fails with them.
inline bool IsPermanentReceiveError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kInvalidArgument:
      return true;
    default:
      return false;
  }
}

class EventSource {
 public:
  virtual ~EventSource() = default;

  // Names the source in dead letters and the job registry, e.g.
  // "pubsub:projects/p/subscriptions/s".
  virtual std::string Name() const = 0;

  // Up to `max_messages`, waiting briefly (well under a second) when none is there. Errors
  // that waiting cannot cure (IsPermanentReceiveError) fail the job; the runner retries any
  // other.
  virtual absl::StatusOr<Received> Receive(std::size_t max_messages) = 0;

  // The messages are stored: the source may forget them. A lost Ack only means a redelivery.
  virtual absl::Status Ack(const std::vector<std::string>& ack_ids) = 0;

  // Hands the messages back, to come again no sooner than `delay` from now (0: at once).
  virtual absl::Status Nack(const std::vector<std::string>& ack_ids, DurationMicros delay) = 0;

  // Keeps the messages leased for `lease` more, where the source leases messages.
  virtual absl::Status ExtendLeases(const std::vector<std::string>& /*ack_ids*/,
                                    TimestampMicros /*lease*/) {
    return absl::OkStatus();
  }

  // Drain: take nothing new in; what was taken in is still received, then Receive() reports
  // exhausted.
  virtual void StopReceiving() = 0;

  // The runner is done with the source: whatever was taken in and never received is handed
  // back (a push endpoint answers it 503).
  virtual void Close() {}
};

}  // namespace bikestream
