#include "cli/mqtt_flags.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cctype>
#include <filesystem>
#include <system_error>

#include "cli/cli_common.h"
#include "job/job_registry.h"

namespace bikestream::cli {

void AddMqttOptions(CLI::App* command, MqttFlags* flags, bool subscriber) {
  const char* group = subscriber ? "MQTT (--from mqtt://HOST:PORT/TOPIC)" : "MQTT (--to mqtt://HOST:PORT/TOPIC)";
  if (subscriber) {
    command->add_option("--client-id", flags->client_id,
                        "The MQTT session's name (required): the broker keeps the subscription, and what "
                        "arrives while ingest is down, under it. The same on every restart; one per job")
        ->group(group);
  } else {
    command->add_option("--client-id", flags->client_id, "The MQTT client id. Default: one the library picks")
        ->group(group);
  }
  command->add_option("--mqtt-username", flags->username, "MQTT username (or USER@ in the URL)")->group(group);
  Secret(command->add_option("--mqtt-password", flags->password, "MQTT password. Falls back to $BIKESTREAM_MQTT_PASSWORD")
             ->envname("BIKESTREAM_MQTT_PASSWORD")
             ->group(group));
  command->add_option("--mqtt-cafile", flags->ca_file,
                      "TLS: the CA certificate (PEM) to trust; turns TLS on. mqtts:// without it trusts the system's CAs")
      ->check(CLI::ExistingFile)
      ->group(group);
  command->add_option("--mqtt-cert", flags->cert_file, "TLS: a client certificate (PEM)")
      ->check(CLI::ExistingFile)
      ->group(group);
  command->add_option("--mqtt-key", flags->key_file, "TLS: the client certificate's key (PEM)")
      ->check(CLI::ExistingFile)
      ->group(group);
  command->add_option("--mqtt-keepalive", flags->keepalive_seconds, "Seconds between keepalive pings")
      ->check(CLI::Range(5, 3600))
      ->capture_default_str()
      ->group(group);
}

bool IsMqttUrl(std::string_view text) { return text.starts_with("mqtt://") || text.starts_with("mqtts://"); }

absl::StatusOr<mqtt::ConnectionOptions> MqttConnection(const std::string& url, const MqttFlags& flags) {
  auto endpoint = mqtt::ParseEndpoint(url);
  if (!endpoint.ok()) return endpoint.status();
  if (flags.cert_file.empty() != flags.key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both --mqtt-cert and --mqtt-key");
  }
  return mqtt::ConnectionOptions{.endpoint = std::move(*endpoint),
                                 .client_id = flags.client_id,
                                 .username = flags.username,
                                 .password = flags.password,
                                 .ca_file = flags.ca_file,
                                 .cert_file = flags.cert_file,
                                 .key_file = flags.key_file,
                                 .keepalive_seconds = flags.keepalive_seconds};
}

std::string MqttSubscriptionsFile(const mqtt::ConnectionOptions& connection) {
  const std::string session =
      fmt::format("{}:{}/{}", connection.endpoint.host, connection.endpoint.port, connection.client_id);
  std::string name = session.substr(0, 100);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  }
  // The checksum keeps sessions whose names read alike once the rest is '_' apart.
  const auto checksum = crc32(0, reinterpret_cast<const Bytef*>(session.data()), static_cast<uInt>(session.size()));
  const std::filesystem::path dir = DefaultStateDir() / "mqtt";
  std::error_code ignored;  // Saving says so, if it cannot be made.
  std::filesystem::create_directories(dir, ignored);
  return (dir / fmt::format("{}-{:08x}", name, checksum)).string();
}

}  // namespace bikestream::cli
