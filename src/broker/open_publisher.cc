#include "broker/open_publisher.h"

#include <fmt/format.h>

#include <cstdio>
#include <system_error>

#include "common/print.h"
#include "mqtt/mqtt_publisher.h"
#include "pubsub/publisher.h"

namespace bikestream {
namespace {

// The messages as lines on stdout: the command's output, so once nobody reads them (`| head`),
// sending fails.
class StdoutPublisher final : public MessagePublisher {
 public:
  explicit StdoutPublisher(bool published) : published_(published) {}
  absl::Status Send(const std::string& payload) override {
    if (published_) {
      Print("Published: {}\n", payload);
      std::fflush(stdout);
    } else {
      Print("{}\n", payload);
    }
    return StdoutWriteError() != 0 ? Closed() : absl::OkStatus();
  }
  absl::Status Flush() override { return FlushStdout() != 0 ? Closed() : absl::OkStatus(); }

 private:
  static absl::Status Closed() {
    return absl::UnavailableError(fmt::format("could not write to stdout: {}",
                                              std::generic_category().message(StdoutWriteError())));
  }
  bool published_;
};

// Sparse mode, as the original script: wait for the broker, then say so on stdout.
absl::Status ConfirmPublished(const std::string& payload) {
  Print("Published: {}\n", payload);
  std::fflush(stdout);
  return absl::OkStatus();
}

class PubsubPublisher final : public MessagePublisher {
 public:
  PubsubPublisher(std::unique_ptr<pubsub::PubsubConnection> connection,
                  pubsub::PublisherOptions options, bool confirm_each)
      : connection_(std::move(connection)),
        publisher_(*connection_, std::move(options)),
        confirm_each_(confirm_each) {}

  absl::Status Send(const std::string& payload) override {
    publisher_.Publish(payload);
    if (!confirm_each_) return absl::OkStatus();
    if (auto status = publisher_.Flush(); !status.ok()) return status;
    return ConfirmPublished(payload);
  }
  absl::Status Flush() override { return publisher_.Flush(); }
  std::string Summary() const override {
    if (confirm_each_) return "";
    const auto stats = publisher_.stats();
    return fmt::format("published {} messages in {} requests{}", stats.published, stats.requests,
                       stats.failed ? fmt::format(", {} FAILED", stats.failed) : "");
  }

 private:
  std::unique_ptr<pubsub::PubsubConnection> connection_;
  pubsub::BatchPublisher publisher_;
  bool confirm_each_;
};

class MqttPublisher final : public MessagePublisher {
 public:
  MqttPublisher(std::unique_ptr<mqtt::Publisher> publisher, std::string name, bool confirm_each)
      : publisher_(std::move(publisher)), name_(std::move(name)), confirm_each_(confirm_each) {}

  absl::Status Send(const std::string& payload) override {
    if (auto status = publisher_->Publish(payload); !status.ok()) return status;
    if (!confirm_each_) return absl::OkStatus();
    if (auto status = publisher_->Flush(); !status.ok()) return status;
    return ConfirmPublished(payload);
  }
  absl::Status Flush() override { return publisher_->Flush(); }
  std::string Summary() const override {
    if (confirm_each_) return "";
    return fmt::format("published {} messages to {} (QoS 1)", publisher_->published(), name_);
  }

 private:
  std::unique_ptr<mqtt::Publisher> publisher_;
  std::string name_;
  bool confirm_each_;
};

using PublisherOpener =
    absl::StatusOr<std::unique_ptr<MessagePublisher>> (*)(const PublisherOptions& options);

absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenStdoutPublisher(
    const PublisherOptions& options) {
  return std::make_unique<StdoutPublisher>(options.published_lines);
}

absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenPubsubPublisher(
    const PublisherOptions& options) {
  auto connection = pubsub::MakeConnection(options.pubsub);
  if (!connection.ok()) return connection.status();
  if (auto status = (*connection)->GetTopic(options.project, options.topic); !status.ok())
    return status;
  return std::make_unique<PubsubPublisher>(
      std::move(*connection),
      pubsub::PublisherOptions{.project = options.project,
                               .topic = options.topic,
                               .concurrency = options.publish_concurrency},
      options.confirm_each);
}

absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenMqttPublisher(
    const PublisherOptions& options) {
  auto connection = mqtt::ConnectionTo(options.to, options.mqtt);
  if (!connection.ok()) return connection.status();
  std::string name = connection->endpoint.Name();
  auto publisher =
      mqtt::Publisher::Start({.connection = std::move(*connection), .log = options.log});
  if (!publisher.ok()) return publisher.status();
  return std::make_unique<MqttPublisher>(std::move(*publisher), std::move(name),
                                         options.confirm_each);
}

// The destinations, one line each: what `to` is, or starts with when it ends in ://.
struct Destination {
  std::string_view to;
  PublisherOpener open;
};
constexpr Destination kDestinations[] = {
    {"stdout", OpenStdoutPublisher},
    {"pubsub", OpenPubsubPublisher},
    {"mqtt://", OpenMqttPublisher},
    {"mqtts://", OpenMqttPublisher},
};

PublisherOpener PublisherOpenerFor(std::string_view to) {
  for (const Destination& destination : kDestinations) {
    if (to == destination.to ||
        (destination.to.ends_with("://") && to.starts_with(destination.to))) {
      return destination.open;
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenPublisher(const PublisherOptions& options) {
  PublisherOpener open = PublisherOpenerFor(options.to);
  if (open == nullptr) {
    return absl::InvalidArgumentError(fmt::format(
        "'{}' is not a destination: stdout, pubsub or mqtt://HOST[:PORT]/TOPIC", options.to));
  }
  return open(options);
}

}  // namespace bikestream
