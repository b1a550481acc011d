// Google Cloud Pub/Sub: the operations bikestream needs, behind one interface.
//
// `PubsubConnection` is implemented over the REST v1 API (rest_connection.cc) and wrapped by
// a retry decorator (retry_connection.cc), as google-cloud-cpp layers its own. Errors are
// absl::Status values whose message is one line for a person: the operation, the resource,
// the service's status and message, and what to check. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/retry.h"
#include "event/timestamp.h"
#include "gcp/credentials.h"
#include "gcp/google_api.h"

namespace bikestream::pubsub {

// Where to reach Pub/Sub and as whom.
struct ConnectionOptions {
  // "host:port" of an emulator (plain HTTP, no credentials), as in $PUBSUB_EMULATOR_HOST.
  // Empty: `endpoint`, with OAuth 2.0 tokens. Default: empty.
  std::string emulator_host;
  // The service's URL, e.g. a regional or private endpoint (gcp::CheckEndpoint has checked
  // it). Default: https://pubsub.googleapis.com.
  std::string endpoint = "https://pubsub.googleapis.com";
  // Where OAuth 2.0 access tokens come from, when not talking to an emulator. Default: none,
  // meaning the GCE/Cloud Run metadata server's.
  std::shared_ptr<gcp::Credentials> credentials;
  std::chrono::milliseconds timeout{30'000};  // Per request. Default: 30 s.
};

struct Message {
  std::string data;        // The payload, decoded.
  std::string message_id;  // Assigned by the service.
  TimestampMicros publish_time = 0;
};

struct ReceivedMessage {
  std::string ack_id;
  Message message;
  int delivery_attempt = 0;  // 0 when the subscription has no dead-letter policy.
};

struct SubscriptionConfig {
  std::string project;
  std::string subscription;
  std::string topic;
  int ack_deadline_seconds = 60;  // Default: 60.
  std::string push_endpoint;      // Empty: a pull subscription. Default: empty.
};

class PubsubConnection {
 public:
  virtual ~PubsubConnection() = default;

  // Create* succeed when the resource already exists.
  virtual absl::Status CreateTopic(const std::string& project, const std::string& topic) = 0;
  virtual absl::Status GetTopic(const std::string& project, const std::string& topic) = 0;
  virtual absl::Status DeleteTopic(const std::string& project, const std::string& topic) = 0;
  virtual absl::Status CreateSubscription(const SubscriptionConfig& config) = 0;
  virtual absl::Status GetSubscription(const std::string& project,
                                       const std::string& subscription) = 0;
  virtual absl::Status DeleteSubscription(const std::string& project,
                                          const std::string& subscription) = 0;

  // Publishes the payloads in one request (at most 1000, at most 10 MB); returns their ids.
  virtual absl::StatusOr<std::vector<std::string>> Publish(
      const std::string& project, const std::string& topic,
      const std::vector<std::string>& payloads) = 0;

  // Returns up to `max_messages` without waiting for more; an empty result means none are
  // available now (an emulator would otherwise hold an empty pull open for a minute or more).
  virtual absl::StatusOr<std::vector<ReceivedMessage>> Pull(const std::string& project,
                                                            const std::string& subscription,
                                                            int max_messages) = 0;

  virtual absl::Status Acknowledge(const std::string& project, const std::string& subscription,
                                   const std::vector<std::string>& ack_ids) = 0;

  // Extends the lease of the messages, or with 0 seconds hands them back for redelivery (nack).
  virtual absl::Status ModifyAckDeadline(const std::string& project,
                                         const std::string& subscription,
                                         const std::vector<std::string>& ack_ids,
                                         int ack_deadline_seconds) = 0;
};

// The REST implementation.
std::unique_ptr<PubsubConnection> MakeRestConnection(ConnectionOptions options);

// Retries what gcp::IsRetryable says (kUnavailable, kResourceExhausted, kDeadlineExceeded,
// kAborted) with backoff and jitter, waiting on `clock`; other errors return at once. Takes
// ownership of `child`; `clock` must outlive the connection.
std::unique_ptr<PubsubConnection> MakeRetryingConnection(
    std::unique_ptr<PubsubConnection> child, RetryPolicy policy = gcp::DefaultRetryPolicy(),
    Clock& clock = SystemClock());

// The connection a client uses, its stack built here as google-cloud-cpp's
// MakePublisherConnection builds its own: `options.endpoint` checked (gcp::CheckEndpoint), the
// Application Default Credentials of the process's environment when neither an emulator nor
// credentials are given, and the retry decorator over the REST connection.
absl::StatusOr<std::unique_ptr<PubsubConnection>> MakeConnection(ConnectionOptions options);

}  // namespace bikestream::pubsub
