#include "mqtt/mqtt.h"

#include <fmt/format.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <system_error>

#include "common/redact.h"

namespace bikestream::mqtt {
namespace {

// libmosquitto's global state (its TLS library, its random source): once per process.
void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

absl::Status Check(int code, const std::string& what) {
  return code == MOSQ_ERR_SUCCESS ? absl::OkStatus() : LibraryError(code, what);
}

}  // namespace

std::string Endpoint::Name() const {
  return fmt::format("{}://{}:{}/{}", tls ? "mqtts" : "mqtt", host, port, topic);
}

absl::StatusOr<Endpoint> ParseEndpoint(const std::string& url) {
  Endpoint endpoint;
  std::string_view rest = url;
  if (rest.starts_with("mqtt://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("mqtts://")) {
    rest.remove_prefix(8);
    endpoint.tls = true;
    endpoint.port = 8883;
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "'{}' is not an MQTT URL: mqtt://HOST[:PORT]/TOPIC or mqtts://…", RedactUrl(url)));
  }
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' names no topic: mqtt://HOST[:PORT]/TOPIC", RedactUrl(url)));
  }
  endpoint.topic = std::string(rest.substr(slash + 1));
  std::string_view authority = rest.substr(0, slash);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view user_info = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const std::size_t colon = user_info.find(':');
    endpoint.username = std::string(user_info.substr(0, colon));
    if (colon != std::string_view::npos)
      endpoint.password = std::string(user_info.substr(colon + 1));
    RegisterSecret(endpoint.password);
  }
  if (const std::size_t colon = authority.rfind(':');
      colon != std::string_view::npos && authority.back() != ']') {
    const std::string_view port = authority.substr(colon + 1);
    int value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return absl::InvalidArgumentError(
          fmt::format("'{}': the port must be a number in 1..65535", RedactUrl(url)));
    }
    endpoint.port = value;
    authority = authority.substr(0, colon);
  }
  if (authority.starts_with('[') && authority.ends_with(']'))
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty())
    return absl::InvalidArgumentError(fmt::format("'{}' names no host", RedactUrl(url)));
  endpoint.host = std::string(authority);
  return endpoint;
}

bool IsUrl(std::string_view text) {
  return text.starts_with("mqtt://") || text.starts_with("mqtts://");
}

absl::StatusOr<ConnectionOptions> ConnectionTo(const std::string& url, ConnectionOptions session) {
  auto endpoint = ParseEndpoint(url);
  if (!endpoint.ok()) return endpoint.status();
  if (session.cert_file.empty() != session.key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both --mqtt-cert and --mqtt-key");
  }
  session.endpoint = std::move(*endpoint);
  return session;
}

void ClientDeleter::operator()(mosquitto* client) const { mosquitto_destroy(client); }

absl::StatusOr<Client> NewClient(const ConnectionOptions& options, bool persistent_session,
                                 void* user_data) {
  InitLibrary();
  const char* id = options.client_id.empty() ? nullptr : options.client_id.c_str();
  // MQTT 5's clean start: a persistent session is resumed, not started afresh.
  Client client(mosquitto_new(id, !persistent_session, user_data));
  if (!client) return absl::InternalError("could not create an MQTT client (out of memory)");
  auto* handle = client.get();
  if (auto status = Check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5),
                          "MQTT 5");
      !status.ok()) {
    return status;
  }
  // Small packets (a PUBACK, the last publish before a flush) go out at once, not after
  // Nagle's wait for the peer's delayed ACK (40 ms a round trip).
  mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1);
  const std::string& username =
      options.username.empty() ? options.endpoint.username : options.username;
  const std::string& password =
      options.password.empty() ? options.endpoint.password : options.password;
  if (!username.empty()) {
    if (auto status =
            Check(mosquitto_username_pw_set(handle, username.c_str(),
                                            password.empty() ? nullptr : password.c_str()),
                  "the MQTT username");
        !status.ok()) {
      return status;
    }
  }
  if (options.endpoint.tls || !options.ca_file.empty()) {
    auto optional = [](const std::string& path) { return path.empty() ? nullptr : path.c_str(); };
    // Without a CA file, the system's CAs (Debian's ca-certificates) are trusted.
    const int code = mosquitto_tls_set(
        handle, optional(options.ca_file), options.ca_file.empty() ? "/etc/ssl/certs" : nullptr,
        optional(options.cert_file), optional(options.key_file), nullptr);
    if (auto status =
            Check(code, "TLS (--mqtt-cafile, --mqtt-cert, --mqtt-key: readable PEM files?)");
        !status.ok()) {
      return status;
    }
  }
  return client;
}

absl::Status Connect(mosquitto* client, const ConnectionOptions& options, bool persistent_session) {
  mosquitto_property* properties = nullptr;
  if (persistent_session) {
    // MQTT 5 ends a session when its client disconnects unless the client asks for longer;
    // UINT32_MAX is "never".
    mosquitto_property_add_int32(&properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL, UINT32_MAX);
  }
  const int code =
      mosquitto_connect_bind_v5(client, options.endpoint.host.c_str(), options.endpoint.port,
                                options.keepalive_seconds, nullptr, properties);
  mosquitto_property_free_all(&properties);
  return Check(code, fmt::format("cannot connect to the MQTT broker at {}:{}",
                                 options.endpoint.host, options.endpoint.port));
}

absl::Status LibraryError(int code, const std::string& what) {
  std::string text = mosquitto_strerror(code);
  if (code == MOSQ_ERR_ERRNO) text = std::generic_category().message(errno);
  if (code == MOSQ_ERR_TLS)
    text += " (is the broker's certificate signed by the CA of --mqtt-cafile, for this host?)";
  const std::string message = fmt::format("{}: {}", what, text);
  switch (code) {
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_MALFORMED_UTF8:
    case MOSQ_ERR_OVERSIZE_PACKET:
    case MOSQ_ERR_TLS:
      return absl::InvalidArgumentError(message);
    case MOSQ_ERR_QOS_NOT_SUPPORTED:
      return absl::InvalidArgumentError(
          message + " (the broker's max_qos must allow QoS 1: QoS 0 loses messages)");
    case MOSQ_ERR_AUTH:
      return absl::UnauthenticatedError(message);
    case MOSQ_ERR_ACL_DENIED:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

absl::Status ReasonError(int reason_code, const std::string& what) {
  const std::string message = fmt::format("{}: {}", what, mosquitto_reason_string(reason_code));
  switch (reason_code) {
    case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
      return absl::UnauthenticatedError(message + " (check --mqtt-username and --mqtt-password)");
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_BANNED:
      return absl::PermissionDeniedError(message +
                                         " (check --mqtt-username and --mqtt-password, and that "
                                         "the broker's ACL allows this client and topic)");
    case MQTT_RC_CLIENTID_NOT_VALID:
      return absl::InvalidArgumentError(message + " (pick another --client-id)");
    case MQTT_RC_TOPIC_FILTER_INVALID:
    case MQTT_RC_TOPIC_NAME_INVALID:
      return absl::InvalidArgumentError(message + " (check the topic of the mqtt:// URL)");
    default:
      return absl::UnavailableError(message);
  }
}

}  // namespace bikestream::mqtt
