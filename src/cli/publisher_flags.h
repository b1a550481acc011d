// `--to`: where `simulate` and `gbfs` send their messages (broker/open_publisher.h), from the
// flags.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/open_publisher.h"
#include "cli/mqtt_flags.h"
#include "cli/pubsub_flags.h"

namespace bikestream::cli {

// Opens what `options.to` names, with the Pub/Sub flags (resolved here, for --to pubsub) and the
// MQTT flags in place of the options' own.
absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenPublisherFromFlags(PublisherOptions options,
                                                                         PubsubFlags& pubsub,
                                                                         const MqttFlags& mqtt);

// Flushes, and says on stderr what was delivered where that is news (a broker's count).
absl::Status FinishPublishing(MessagePublisher& publisher);

// Checks --to: one of `names`, or an mqtt:// or mqtts:// URL.
CLI::Validator MessageDestinations(std::vector<std::string> names);

}  // namespace bikestream::cli
