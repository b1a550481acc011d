// The MQTT flags: the session's client id, credentials and TLS, for `ingest --from mqtt://…`
// and `simulate`/`gbfs --to mqtt://…`. Where the broker is and the topic come from the URL.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "mqtt/mqtt.h"

namespace bikestream::cli {

struct MqttFlags {
  std::string client_id;
  std::string username;
  std::string password;  // $BIKESTREAM_MQTT_PASSWORD: out of the process list.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  int keepalive_seconds = 30;
};
void AddMqttOptions(CLI::App* command, MqttFlags* flags, bool subscriber);

bool IsMqttUrl(std::string_view text);
// The connection to the URL's broker with the flags' session, credentials and TLS.
absl::StatusOr<mqtt::ConnectionOptions> MqttConnection(const std::string& url, const MqttFlags& flags);

// Where a subscriber's session keeps its topic filters (mqtt::SourceOptions::subscriptions_path):
// one file for each broker and client id, in the state directory (job_registry.h).
std::string MqttSubscriptionsFile(const mqtt::ConnectionOptions& connection);

}  // namespace bikestream::cli
