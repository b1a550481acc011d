#include "cli/publisher_flags.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "common/print.h"

namespace bikestream::cli {

absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenPublisherFromFlags(PublisherOptions options,
                                                                         PubsubFlags& pubsub,
                                                                         const MqttFlags& mqtt) {
  if (options.to == "pubsub") {
    if (auto status = ResolvePubsubFlags(&pubsub, true, false); !status.ok()) return status;
    options.pubsub = PubsubConnectionOptions(pubsub);
    options.project = pubsub.project;
    options.topic = pubsub.topic;
  }
  options.mqtt = MqttSession(mqtt);
  options.log = [](const std::string& line) { Print(stderr, "\n{}\n", line); };
  return OpenPublisher(options);
}

absl::Status FinishPublishing(MessagePublisher& publisher) {
  absl::Status flushed = publisher.Flush();
  if (std::string summary = publisher.Summary(); !summary.empty()) Print(stderr, "{}\n", summary);
  return flushed;
}

CLI::Validator MessageDestinations(std::vector<std::string> names) {
  std::string description =
      fmt::format("one of {}, or mqtt://HOST:PORT/TOPIC", fmt::join(names, " "));
  return CLI::Validator(
      [names = std::move(names)](const std::string& to) -> std::string {
        if (mqtt::IsUrl(to) || std::find(names.begin(), names.end(), to) != names.end()) return "";
        return fmt::format(
            "'{}' is not a destination: {}, or mqtt://HOST[:PORT]/TOPIC (mqtts:// for TLS)", to,
            fmt::join(names, ", "));
      },
      std::move(description));
}

}  // namespace bikestream::cli
