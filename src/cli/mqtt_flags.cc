#include "cli/mqtt_flags.h"

#include "cli/cli_common.h"

namespace bikestream::cli {

void AddMqttOptions(CLI::App* command, MqttFlags* flags, bool subscriber) {
  const char* group =
      subscriber ? "MQTT (--from mqtt://HOST:PORT/TOPIC)" : "MQTT (--to mqtt://HOST:PORT/TOPIC)";
  if (subscriber) {
    command
        ->add_option(
            "--client-id", flags->client_id,
            "The MQTT session's name (required): the broker keeps the subscription, and what "
            "arrives while ingest is down, under it. The same on every restart; one per job")
        ->group(group);
  } else {
    command
        ->add_option("--client-id", flags->client_id,
                     "The MQTT client id. Default: one the library picks")
        ->group(group);
  }
  command->add_option("--mqtt-username", flags->username, "MQTT username (or USER@ in the URL)")
      ->group(group);
  Secret(command
             ->add_option("--mqtt-password", flags->password,
                          "MQTT password. Falls back to $BIKESTREAM_MQTT_PASSWORD")
             ->envname("BIKESTREAM_MQTT_PASSWORD")
             ->group(group));
  command
      ->add_option("--mqtt-cafile", flags->ca_file,
                   "TLS: the CA certificate (PEM) to trust; turns TLS on. mqtts:// without it "
                   "trusts the system's CAs")
      ->check(CLI::ExistingFile)
      ->group(group);
  command->add_option("--mqtt-cert", flags->cert_file, "TLS: a client certificate (PEM)")
      ->check(CLI::ExistingFile)
      ->group(group);
  command->add_option("--mqtt-key", flags->key_file, "TLS: the client certificate's key (PEM)")
      ->check(CLI::ExistingFile)
      ->group(group);
  command
      ->add_option("--mqtt-keepalive", flags->keepalive_seconds, "Seconds between keepalive pings")
      ->check(CLI::Range(5, 3600))
      ->capture_default_str()
      ->group(group);
}

mqtt::ConnectionOptions MqttSession(const MqttFlags& flags) {
  return mqtt::ConnectionOptions{.client_id = flags.client_id,
                                 .username = flags.username,
                                 .password = flags.password,
                                 .ca_file = flags.ca_file,
                                 .cert_file = flags.cert_file,
                                 .key_file = flags.key_file,
                                 .keepalive_seconds = flags.keepalive_seconds};
}

}  // namespace bikestream::cli
