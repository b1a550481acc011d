#include "cli/pubsub_flags.h"

#include "cli/cli_common.h"
#include "gcp/google_api.h"
#include "pubsub/wire.h"

namespace bikestream::cli {

void AddPubsubOptions(CLI::App* command, PubsubFlags* flags, bool topic, bool subscription) {
  command->add_option(
      "--project", flags->project,
      "Google Cloud project. Falls back to $PROJECT_ID, then $GOOGLE_CLOUD_PROJECT");
  if (topic)
    command->add_option("--topic", flags->topic, "Pub/Sub topic. Falls back to $PUBSUB_TOPIC");
  if (subscription) {
    command->add_option("--subscription", flags->subscription,
                        "Pub/Sub subscription. Falls back to $SUBSCRIPTION");
  }
  command->add_option(
      "--pubsub-endpoint", flags->endpoint,
      "Pub/Sub's URL, e.g. a regional endpoint (https://europe-west1-pubsub.googleapis.com). "
      "Falls back to $PUBSUB_ENDPOINT, then https://pubsub.googleapis.com. "
      "$PUBSUB_EMULATOR_HOST overrides it: plain HTTP, no credentials");
}

absl::Status ResolvePubsubFlags(PubsubFlags* flags, bool need_topic, bool need_subscription) {
  if (flags->project.empty()) flags->project = FirstEnv({"PROJECT_ID", "GOOGLE_CLOUD_PROJECT"});
  if (flags->topic.empty()) flags->topic = FirstEnv({"PUBSUB_TOPIC"});
  if (flags->subscription.empty()) flags->subscription = FirstEnv({"SUBSCRIPTION"});
  if (flags->endpoint.empty()) flags->endpoint = FirstEnv({"PUBSUB_ENDPOINT"});
  if (!flags->endpoint
           .empty()) {  // Checked first, as a flag; pubsub::MakeConnection checks it too.
    auto endpoint = gcp::CheckEndpoint(flags->endpoint, "--pubsub-endpoint");
    if (!endpoint.ok()) return endpoint.status();
    flags->endpoint = *endpoint;
  }
  if (flags->project.empty()) {
    return absl::InvalidArgumentError("no Pub/Sub project: give --project or set PROJECT_ID");
  }
  if (need_topic && flags->topic.empty()) {
    return absl::InvalidArgumentError("no Pub/Sub topic: give --topic or set PUBSUB_TOPIC");
  }
  if (need_subscription && flags->subscription.empty()) {
    return absl::InvalidArgumentError(
        "no Pub/Sub subscription: give --subscription or set SUBSCRIPTION");
  }
  return pubsub::ValidateResourceNames(flags->project, flags->topic, flags->subscription);
}

pubsub::ConnectionOptions PubsubConnectionOptions(const PubsubFlags& flags) {
  pubsub::ConnectionOptions options{.emulator_host = FirstEnv({"PUBSUB_EMULATOR_HOST"})};
  if (!flags.endpoint.empty()) options.endpoint = flags.endpoint;
  return options;
}

}  // namespace bikestream::cli
