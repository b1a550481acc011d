#include "cli/message_sink.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <system_error>

#include "common/print.h"
#include "mqtt/mqtt_publisher.h"
#include "pubsub/publisher.h"

namespace bikestream::cli {
namespace {

class StdoutSink final : public MessageSink {
 public:
  explicit StdoutSink(bool published) : published_(published) {}
  absl::Status Send(const std::string& payload) override {
    if (published_) {
      Print("Published: {}\n", payload);
      std::fflush(stdout);
    } else {
      Print("{}\n", payload);
    }
    // The messages are the command's work: once nobody reads them (`| head`), stop.
    return StdoutWriteError() != 0 ? Closed() : absl::OkStatus();
  }
  absl::Status Flush() override { return FlushStdout() != 0 ? Closed() : absl::OkStatus(); }
  absl::Status Finish() override { return Flush(); }

 private:
  static absl::Status Closed() {
    return absl::UnavailableError(
        fmt::format("could not write to stdout: {}", std::generic_category().message(StdoutWriteError())));
  }
  bool published_;
};

class PubsubSink final : public MessageSink {
 public:
  PubsubSink(std::unique_ptr<pubsub::PubsubConnection> connection, pubsub::PublisherOptions options,
             bool confirm_each)
      : connection_(std::move(connection)),
        publisher_(*connection_, std::move(options)),
        confirm_each_(confirm_each) {}

  absl::Status Send(const std::string& payload) override {
    publisher_.Publish(payload);
    if (!confirm_each_) return absl::OkStatus();
    // Sparse mode, as the original script: wait for the service, then say so.
    if (auto status = publisher_.Flush(); !status.ok()) return status;
    Print("Published: {}\n", payload);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return publisher_.Flush(); }
  absl::Status Finish() override {
    absl::Status status = publisher_.Flush();
    const auto stats = publisher_.stats();
    if (!confirm_each_) {
      Print(stderr, "published {} messages in {} requests{}\n", stats.published, stats.requests,
            stats.failed ? fmt::format(", {} FAILED", stats.failed) : "");
    }
    return status;
  }

 private:
  std::unique_ptr<pubsub::PubsubConnection> connection_;
  pubsub::BatchPublisher publisher_;
  bool confirm_each_;
};

class MqttSink final : public MessageSink {
 public:
  MqttSink(std::unique_ptr<mqtt::Publisher> publisher, std::string name, bool confirm_each)
      : publisher_(std::move(publisher)), name_(std::move(name)), confirm_each_(confirm_each) {}

  absl::Status Send(const std::string& payload) override {
    if (auto status = publisher_->Publish(payload); !status.ok()) return status;
    if (!confirm_each_) return absl::OkStatus();
    if (auto status = publisher_->Flush(); !status.ok()) return status;
    Print("Published: {}\n", payload);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return publisher_->Flush(); }
  absl::Status Finish() override {
    absl::Status status = publisher_->Flush();
    if (!confirm_each_) Print(stderr, "published {} messages to {} (QoS 1)\n", publisher_->published(), name_);
    return status;
  }

 private:
  std::unique_ptr<mqtt::Publisher> publisher_;
  std::string name_;
  bool confirm_each_;
};

absl::StatusOr<std::unique_ptr<MessageSink>> OpenMqttSink(const MessageSinkOptions& options, const MqttFlags& flags) {
  auto connection = MqttConnection(options.to, flags);
  if (!connection.ok()) return connection.status();
  const std::string name = connection->endpoint.Name();
  auto publisher = mqtt::Publisher::Start(mqtt::PublisherOptions{
      .connection = std::move(*connection), .log = [](const std::string& line) { Print(stderr, "\n{}\n", line); }});
  if (!publisher.ok()) return publisher.status();
  return std::make_unique<MqttSink>(std::move(*publisher), name, options.confirm_each);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MessageSink>> OpenMessageSink(const MessageSinkOptions& options, PubsubFlags& pubsub,
                                                             const MqttFlags& mqtt) {
  if (options.to == "stdout") return std::make_unique<StdoutSink>(options.published_lines);
  if (IsMqttUrl(options.to)) return OpenMqttSink(options, mqtt);
  if (auto status = ResolvePubsubFlags(&pubsub, true, false); !status.ok()) return status;
  auto connection = MakePubsubConnection(pubsub);
  if (!connection.ok()) return connection.status();
  if (auto status = (*connection)->GetTopic(pubsub.project, pubsub.topic); !status.ok()) return status;
  return std::make_unique<PubsubSink>(
      std::move(*connection),
      pubsub::PublisherOptions{.project = pubsub.project, .topic = pubsub.topic, .concurrency = options.publish_concurrency},
      options.confirm_each);
}

CLI::Validator MessageDestinations(std::vector<std::string> names) {
  std::string description = fmt::format("one of {}, or mqtt://HOST:PORT/TOPIC", fmt::join(names, " "));
  return CLI::Validator(
      [names = std::move(names)](const std::string& to) -> std::string {
        if (IsMqttUrl(to) || std::find(names.begin(), names.end(), to) != names.end()) return "";
        return fmt::format("'{}' is not a destination: {}, or mqtt://HOST[:PORT]/TOPIC (mqtts:// for TLS)", to,
                           fmt::join(names, ", "));
      },
      std::move(description));
}

}  // namespace bikestream::cli
