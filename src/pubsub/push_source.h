// A Pub/Sub push subscription's endpoint as an event source (source/event_source.h).
//
// An HTTP server takes push requests (the JSON envelope with Base64 data) on its own threads.
// Each request waits until the runner acknowledges its message, that is once its event (or its
// dead-letter row) is durably committed, and is then answered 204; a message handed back is
// answered 503, so Pub/Sub redelivers it later. With a token, requests without `?token=<it>`
// get 401. Bodies over the limit get 413; a request unanswered after `request_timeout` gets
// 503. StopReceiving() stops taking requests; Close() answers 503 to what was never received.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/limits.h"
#include "source/event_source.h"

namespace bikestream::pubsub {

struct PushSourceOptions {
  std::string listen;  // HOST:PORT; port 0 picks one. Required.
  std::string token;   // Required ?token= value; empty: none. Default: empty.
  std::size_t max_body_bytes = limits::kPushRequest;  // Larger requests get 413. Default: 16 MiB.
  DurationMicros request_timeout =
      30 * kMicrosPerSecond;  // Read, write and commit limit. Default: 30 s.
};

class PushSource : public EventSource {
 public:
  // Listens on options.listen (kInvalidArgument for a bad address, kUnavailable for a busy
  // one) and serves until Close().
  static absl::StatusOr<std::unique_ptr<PushSource>> Start(const PushSourceOptions& options);
  ~PushSource() override = default;

  // "HOST:PORT" actually bound.
  virtual const std::string& address() const = 0;
};

}  // namespace bikestream::pubsub
