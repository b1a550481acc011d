#include "broker/open_publisher.h"

#include <fmt/format.h>

#include <cstdio>
#include <system_error>

#include "broker/kind_name.h"
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

// Sparse mode, as the original script: each message waits for the broker, then is said on
// stdout to be published. Wraps a broker's publisher; its count is then no news.
class ConfirmingPublisher final : public MessagePublisher {
 public:
  explicit ConfirmingPublisher(std::unique_ptr<MessagePublisher> publisher)
      : publisher_(std::move(publisher)) {}

  absl::Status Send(const std::string& payload) override {
    if (auto status = publisher_->Send(payload); !status.ok()) return status;
    if (auto status = publisher_->Flush(); !status.ok()) return status;
    Print("Published: {}\n", payload);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return publisher_->Flush(); }

 private:
  std::unique_ptr<MessagePublisher> publisher_;
};

// A broker's publisher, confirming each message when the options ask for it.
std::unique_ptr<MessagePublisher> ConfirmingIfAsked(const PublisherOptions& options,
                                                    std::unique_ptr<MessagePublisher> publisher) {
  if (!options.confirm_each) return publisher;
  return std::make_unique<ConfirmingPublisher>(std::move(publisher));
}

class PubsubPublisher final : public MessagePublisher {
 public:
  PubsubPublisher(std::unique_ptr<pubsub::PubsubConnection> connection,
                  pubsub::PublisherOptions options)
      : connection_(std::move(connection)), publisher_(*connection_, std::move(options)) {}

  absl::Status Send(const std::string& payload) override {
    publisher_.Publish(payload);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return publisher_.Flush(); }
  std::string Summary() const override {
    const auto stats = publisher_.stats();
    return fmt::format("published {} messages in {} requests{}", stats.published, stats.requests,
                       stats.failed ? fmt::format(", {} FAILED", stats.failed) : "");
  }

 private:
  std::unique_ptr<pubsub::PubsubConnection> connection_;
  pubsub::BatchPublisher publisher_;
};

class MqttPublisher final : public MessagePublisher {
 public:
  MqttPublisher(std::unique_ptr<mqtt::Publisher> publisher, std::string name)
      : publisher_(std::move(publisher)), name_(std::move(name)) {}

  absl::Status Send(const std::string& payload) override { return publisher_->Publish(payload); }
  absl::Status Flush() override { return publisher_->Flush(); }
  std::string Summary() const override {
    return fmt::format("published {} messages to {} (QoS 1)", publisher_->published(), name_);
  }

 private:
  std::unique_ptr<mqtt::Publisher> publisher_;
  std::string name_;
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
  return ConfirmingIfAsked(
      options, std::make_unique<PubsubPublisher>(
                   std::move(*connection),
                   pubsub::PublisherOptions{.project = options.project,
                                            .topic = options.topic,
                                            .concurrency = options.publish_concurrency}));
}

absl::StatusOr<std::unique_ptr<MessagePublisher>> OpenMqttPublisher(
    const PublisherOptions& options) {
  auto connection = mqtt::ConnectionTo(options.to, options.mqtt);
  if (!connection.ok()) return connection.status();
  std::string name = connection->endpoint.Name();
  auto publisher =
      mqtt::Publisher::Start({.connection = std::move(*connection), .log = options.log});
  if (!publisher.ok()) return publisher.status();
  return ConfirmingIfAsked(options,
                           std::make_unique<MqttPublisher>(std::move(*publisher), std::move(name)));
}

// The destinations, one line each, by the name or URL scheme `to` gives (kind_name.h).
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
    if (NamesKind(destination.to, to)) return destination.open;
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
