// The Pub/Sub flags and environment: project, topic, subscription, and the connection.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pubsub/pubsub.h"

namespace bikestream::cli {

// The Pub/Sub resource flags; each falls back to the environment names of docs/design.md.
struct PubsubFlags {
  std::string project;       // $PROJECT_ID, then $GOOGLE_CLOUD_PROJECT.
  std::string topic;         // $PUBSUB_TOPIC.
  std::string subscription;  // $SUBSCRIPTION.
  std::string endpoint;      // $PUBSUB_ENDPOINT; checked by ResolvePubsubFlags.
};
void AddPubsubOptions(CLI::App* command, PubsubFlags* flags, bool topic, bool subscription);
// Fills unset flags from the environment; an error names what is still missing.
absl::Status ResolvePubsubFlags(PubsubFlags* flags, bool need_topic, bool need_subscription);
// Where Pub/Sub is: $PUBSUB_EMULATOR_HOST, or the flags' endpoint (Google Cloud by default),
// for pubsub::MakeConnection.
pubsub::ConnectionOptions PubsubConnectionOptions(const PubsubFlags& flags);

}  // namespace bikestream::cli
