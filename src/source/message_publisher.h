// Where a producer's messages go (`simulate`, the `gbfs` job): stdout, a Pub/Sub topic, an MQTT
// topic — each an adapter behind this interface, opened by name in broker/open_publisher.h.
// The other end of a broker from an EventSource.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace bikestream {

class MessagePublisher {
 public:
  virtual ~MessagePublisher() = default;
  virtual absl::Status Send(const std::string& payload) = 0;
  // Returns once every message sent is delivered: stdout flushed, or the broker acknowledged.
  virtual absl::Status Flush() = 0;
  // What was delivered where, when that is news (a broker's count); empty otherwise.
  virtual std::string Summary() const { return ""; }
};

}  // namespace bikestream
