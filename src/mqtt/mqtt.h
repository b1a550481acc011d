// MQTT, through Debian's libmosquitto: where a broker is (mqtt:// and mqtts:// URLs), how to
// reach it (credentials, TLS), and a client handle configured for MQTT 5. The event source
// (mqtt_source.h) and the publisher (mqtt_publisher.h) build on these.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct mosquitto;

namespace bikestream::mqtt {

// mqtt://[USER[:PASSWORD]@]HOST[:PORT]/TOPIC, or mqtts:// for TLS. PORT defaults to 1883
// (8883 for mqtts). TOPIC is everything after the first / after the host, filters (+, #)
// included.
struct Endpoint {
  std::string host;
  int port = 1883;
  std::string topic;
  bool tls = false;
  std::string username;
  std::string password;

  // mqtt://HOST:PORT/TOPIC, without credentials: names the source in logs and dead letters.
  std::string Name() const;
};
absl::StatusOr<Endpoint> ParseEndpoint(const std::string& url);

struct ConnectionOptions {
  Endpoint endpoint;
  // The session's name at the broker. A subscriber's session (and the messages queued for it
  // while it is away) lives under it: the same id on every restart. Empty: the library picks one.
  std::string client_id;
  std::string username;  // Overrides the URL's.
  std::string password;  // Overrides the URL's.
  // TLS (mqtts://): the CA file to trust (empty: the system's), and a client certificate.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  int keepalive_seconds = 30;
};

// Whether `text` is an mqtt:// or mqtts:// URL.
bool IsUrl(std::string_view text);

// `session` (client id, credentials, TLS) to the broker and topic of `url`; kInvalidArgument for
// a URL that is not one, or a client certificate without its key.
absl::StatusOr<ConnectionOptions> ConnectionTo(const std::string& url, ConnectionOptions session);

// A libmosquitto client, destroyed with the handle.
struct ClientDeleter {
  void operator()(mosquitto* client) const;
};
using Client = std::unique_ptr<mosquitto, ClientDeleter>;

// A client speaking MQTT 5 with the options' credentials and TLS, not yet connected;
// `persistent_session` asks the broker to keep the session while the client is away (a
// subscriber's), else it starts clean. `user_data` is handed to every callback.
absl::StatusOr<Client> NewClient(const ConnectionOptions& options, bool persistent_session,
                                 void* user_data);

// Opens the TCP (and TLS) connection and queues CONNECT; the answer comes to the connect
// callback. A persistent session is kept by the broker for ever after a disconnect.
absl::Status Connect(mosquitto* client, const ConnectionOptions& options, bool persistent_session);

// libmosquitto's error code, or an MQTT 5 reason code, as a status whose message names the fix
// where there is one.
absl::Status LibraryError(int code, const std::string& what);
absl::Status ReasonError(int reason_code, const std::string& what);

}  // namespace bikestream::mqtt
