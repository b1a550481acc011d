// A streaming job's source, opened by what `ingest --from` names, with the runner settings that
// suit it: one line in this folder's table (open_source.cc) per kind of source.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "job/streaming_runner.h"
#include "mqtt/mqtt.h"
#include "pubsub/pubsub.h"
#include "pubsub/push_source.h"
#include "source/event_source.h"

namespace bikestream {

struct EventSourceOptions {
  // What to receive from: `pubsub` (the subscription below), `mqtt://…` or `mqtts://…` (a topic);
  // empty with `push.listen` set: Pub/Sub push requests.
  std::string from;

  // Pub/Sub: where the service is, and the subscription pulled from.
  pubsub::ConnectionOptions pubsub;
  std::string project;
  std::string subscription;
  pubsub::PushSourceOptions push;

  // MQTT: the session (client id, credentials, TLS); where the broker is comes from `from`.
  mqtt::ConnectionOptions mqtt;

  // Flow control and batching, as the runner's (job/streaming_runner.h).
  int pullers = 2;  // Pub/Sub pulls in flight.
  std::size_t max_outstanding_messages = 20'000;
  std::size_t max_outstanding_bytes = 64 << 20;
  int ack_deadline_seconds = 60;          // Pub/Sub: each lease is extended to this.
  std::optional<std::size_t> batch_size;  // Default: 10,000.

  std::filesystem::path state_dir;              // Where an MQTT session keeps its topic filters.
  std::function<void(const std::string&)> log;  // The source's own lines (lost connections).
};

struct OpenedSource {
  std::unique_ptr<EventSource> source;
  StreamingOptions options;  // The runner's settings for this source.
  std::string started;       // Says where it receives, for the job's log; may be empty.
};

// Whether `from` names a streaming source (else it is a file, or - for stdin).
bool IsStreamingSource(std::string_view from);

// Opens the source `options.from` names: fails fast, with the service's own words, when it
// cannot be reached or refuses the subscription; kInvalidArgument names what is missing.
absl::StatusOr<OpenedSource> OpenEventSource(const EventSourceOptions& options);

}  // namespace bikestream
