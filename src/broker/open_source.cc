#include "broker/open_source.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "broker/kind_name.h"
#include "mqtt/mqtt_source.h"
#include "pubsub/pull_source.h"

namespace bikestream {
namespace {

constexpr std::size_t kBatchSize = 10'000;

using SourceOpener = absl::StatusOr<OpenedSource> (*)(const EventSourceOptions& options);

absl::StatusOr<OpenedSource> OpenPubsubPull(const EventSourceOptions& options) {
  auto connection = pubsub::MakeConnection(options.pubsub);
  if (!connection.ok()) return connection.status();
  return OpenedSource{
      .source = std::make_unique<pubsub::PullSource>(
          std::move(*connection), pubsub::PullSourceOptions{.project = options.project,
                                                            .subscription = options.subscription}),
      .options = StreamingOptions{.receivers = options.pullers,
                                  .max_outstanding_messages = options.max_outstanding_messages,
                                  .max_outstanding_bytes = options.max_outstanding_bytes,
                                  .batch_size = options.batch_size.value_or(kBatchSize),
                                  .lease = options.ack_deadline_seconds * kMicrosPerSecond}};
}

absl::StatusOr<OpenedSource> OpenPubsubPush(const EventSourceOptions& options) {
  auto source = pubsub::PushSource::Start(options.push);
  if (!source.ok()) return source.status();
  std::string started =
      fmt::format("accepting Pub/Sub push requests at http://{}/", (*source)->address());
  // Whatever arrived while the last commit ran goes into the next one.
  return OpenedSource{
      .source = std::move(*source),
      .options = StreamingOptions{.receivers = 1,
                                  .batch_size = options.batch_size.value_or(kBatchSize),
                                  .max_commit_delay = 0},
      .started = std::move(started)};
}

// Where a session keeps its topic filters: one file for each broker and client id.
std::string SubscriptionsFile(const std::filesystem::path& state_dir,
                              const mqtt::ConnectionOptions& connection) {
  const std::string session = fmt::format("{}:{}/{}", connection.endpoint.host,
                                          connection.endpoint.port, connection.client_id);
  std::string name = session.substr(0, 100);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  }
  // The checksum keeps sessions whose names read alike once the rest is '_' apart.
  const auto checksum =
      crc32(0, reinterpret_cast<const Bytef*>(session.data()), static_cast<uInt>(session.size()));
  const std::filesystem::path dir = state_dir / "mqtt";
  std::error_code ignored;  // Saving says so, if it cannot be made.
  std::filesystem::create_directories(dir, ignored);
  return (dir / fmt::format("{}-{:08x}", name, checksum)).string();
}

absl::StatusOr<OpenedSource> OpenMqttSource(const EventSourceOptions& options) {
  auto connection = mqtt::ConnectionTo(options.from, options.mqtt);
  if (!connection.ok()) return connection.status();
  if (connection->client_id.empty()) {
    return absl::InvalidArgumentError(
        "give --client-id NAME with --from mqtt://…: the broker keeps the session, and what "
        "arrives while ingest "
        "is down, under that name; use the same one on every restart");
  }
  std::string started = fmt::format("receiving from {} at QoS 1 in session {}",
                                    connection->endpoint.Name(), connection->client_id);
  // The broker sends at most this many unacknowledged: MQTT 5's Receive Maximum, 65535 at most.
  const int receive_maximum = int(std::min<std::size_t>(options.max_outstanding_messages, 65'535));
  std::string subscriptions = SubscriptionsFile(options.state_dir, *connection);
  auto source =
      mqtt::Source::Start(mqtt::SourceOptions{.connection = std::move(*connection),
                                              .receive_maximum = receive_maximum,
                                              .log = options.log,
                                              .subscriptions_path = std::move(subscriptions)});
  if (!source.ok()) return source.status();
  // A window of messages is acknowledged only once all of it is committed: commit whatever came
  // while the last commit ran, at once.
  return OpenedSource{
      .source = std::move(*source),
      .options = StreamingOptions{.receivers = 1,
                                  .max_outstanding_messages = std::size_t(receive_maximum),
                                  .max_outstanding_bytes = options.max_outstanding_bytes,
                                  .batch_size = options.batch_size.value_or(kBatchSize),
                                  .max_commit_delay = 0},
      .started = std::move(started)};
}

// The streaming sources, one line each, by the name or URL scheme `from` gives (kind_name.h).
struct StreamingSourceKind {
  std::string_view from;
  SourceOpener open;
};
constexpr StreamingSourceKind kStreamingSources[] = {
    {"pubsub", OpenPubsubPull},
    {"mqtt://", OpenMqttSource},
    {"mqtts://", OpenMqttSource},
};

SourceOpener SourceOpenerFor(std::string_view from) {
  for (const StreamingSourceKind& kind : kStreamingSources) {
    if (NamesKind(kind.from, from)) return kind.open;
  }
  return nullptr;
}

}  // namespace

bool IsStreamingSource(std::string_view from) { return SourceOpenerFor(from) != nullptr; }

absl::StatusOr<OpenedSource> OpenEventSource(const EventSourceOptions& options) {
  if (options.from.empty() && !options.push.listen.empty()) return OpenPubsubPush(options);
  SourceOpener open = SourceOpenerFor(options.from);
  if (open == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not a streaming source: pubsub, mqtt://HOST[:PORT]/TOPIC or mqtts://…",
                    options.from));
  }
  return open(options);
}

}  // namespace bikestream
