// The MQTT flags: the session's client id, credentials and TLS, for `ingest --from mqtt://…`
// and `simulate`/`gbfs --to mqtt://…`. Where the broker is and the topic come from the URL.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

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

// The flags' session, credentials and TLS; where the broker is comes from a URL
// (mqtt::ConnectionTo).
mqtt::ConnectionOptions MqttSession(const MqttFlags& flags);

}  // namespace bikestream::cli
