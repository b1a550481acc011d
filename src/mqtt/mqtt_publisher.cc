#include "mqtt/mqtt_publisher.h"

#include <fmt/format.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "common/mutex.h"
#include "common/status.h"

namespace bikestream::mqtt {

constexpr absl::Duration kConnectTimeout = absl::Seconds(10);

struct PublisherCallbacks {
  static void OnConnect(mosquitto* /*client*/, void* user_data, int reason_code, int /*flags*/,
                        const mosquitto_property* /*properties*/) {
    auto& self = *static_cast<Publisher*>(user_data);
    const auto& endpoint = self.options_.connection.endpoint;
    MutexLock lock(&self.mu_);
    if (reason_code == MQTT_RC_SUCCESS) {
      if (!self.connected_ && self.published_ > 0 && self.options_.log) {
        self.options_.log(
            fmt::format("mqtt: connected again to {}:{}; sending again what was not acknowledged",
                        endpoint.host, endpoint.port));
      }
      self.connected_ = true;
    } else {
      // Start reports it; later, Flush does (libmosquitto's thread gives up on a refusal).
      self.refused_connection_ =
          ReasonError(reason_code, fmt::format("the MQTT broker at {}:{} refused the connection",
                                               endpoint.host, endpoint.port));
    }
    self.changed_.SignalAll();
  }

  static void OnDisconnect(mosquitto* /*client*/, void* user_data, int code,
                           const mosquitto_property* /*properties*/) {
    auto& self = *static_cast<Publisher*>(user_data);
    MutexLock lock(&self.mu_);
    if (self.connected_ && code != MOSQ_ERR_SUCCESS &&
        self.options_.log) {  // Not our own disconnect.
      self.options_.log(fmt::format("mqtt: lost the connection to {}:{} ({}); reconnecting",
                                    self.options_.connection.endpoint.host,
                                    self.options_.connection.endpoint.port,
                                    mosquitto_strerror(code)));
    }
    self.connected_ = false;
  }

  static void OnPublish(mosquitto* /*client*/, void* user_data, int /*mid*/, int reason_code,
                        const mosquitto_property* /*properties*/) {
    auto& self = *static_cast<Publisher*>(user_data);
    MutexLock lock(&self.mu_);
    ++self.acknowledged_;
    if (reason_code >= MQTT_RC_UNSPECIFIED) {
      ++self.refused_;
      self.last_refusal_ =
          ReasonError(reason_code, fmt::format("the MQTT broker refused messages to '{}'",
                                               self.options_.connection.endpoint.topic));
    }
    self.changed_.SignalAll();
  }
};

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Start(PublisherOptions options) {
  const std::string& topic = options.connection.endpoint.topic;
  if (topic.find_first_of("+#") != std::string::npos) {
    return absl::InvalidArgumentError(
        fmt::format("cannot publish to '{}': + and # are for subscribing; name one topic", topic));
  }
  std::unique_ptr<Publisher> publisher(new Publisher(std::move(options)));
  auto client = NewClient(publisher->options_.connection, false, publisher.get());
  if (!client.ok()) return client.status();
  publisher->client_ = std::move(*client);
  mosquitto* handle = publisher->client_.get();
  mosquitto_connect_v5_callback_set(handle, PublisherCallbacks::OnConnect);
  mosquitto_disconnect_v5_callback_set(handle, PublisherCallbacks::OnDisconnect);
  mosquitto_publish_v5_callback_set(handle, PublisherCallbacks::OnPublish);
  mosquitto_reconnect_delay_set(handle, 1, 30, true);
  if (auto status = Connect(handle, publisher->options_.connection, false); !status.ok())
    return status;
  if (int code = mosquitto_loop_start(handle); code != MOSQ_ERR_SUCCESS) {
    return LibraryError(code, "cannot start the MQTT client's thread");
  }
  MutexLock lock(&publisher->mu_);
  auto answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(publisher->mu_) {
    return publisher->connected_ || !publisher->refused_connection_.ok();
  };
  const absl::Time deadline = absl::Now() + kConnectTimeout;
  while (!answered() && !WaitWithDeadline(publisher->changed_, &publisher->mu_, deadline)) {
  }
  if (!answered()) {
    const auto& endpoint = publisher->options_.connection.endpoint;
    return absl::DeadlineExceededError(
        fmt::format("the MQTT broker at {}:{} did not answer within {} s", endpoint.host,
                    endpoint.port, absl::ToInt64Seconds(kConnectTimeout)));
  }
  if (!publisher->refused_connection_.ok()) return publisher->refused_connection_;
  return publisher;
}

Publisher::~Publisher() {
  if (!client_) return;
  mosquitto_disconnect_v5(client_.get(), MQTT_RC_SUCCESS, nullptr);
  // Not forced: cancelling the thread can leave libmosquitto's mutexes locked.
  mosquitto_loop_stop(client_.get(), false);
}

absl::Status Publisher::Publish(const std::string& payload) {
  {
    MutexLock lock(&mu_);
    while (published_ - acknowledged_ >= options_.max_unacknowledged && refused_connection_.ok()) {
      Wait(changed_, &mu_);
    }
    if (!refused_connection_.ok()) return refused_connection_;
    ++published_;  // Before the call: its acknowledgement may come before the call returns.
  }
  const auto& topic = options_.connection.endpoint.topic;
  const int code = mosquitto_publish_v5(client_.get(), nullptr, topic.c_str(), int(payload.size()),
                                        payload.data(), 1, false, nullptr);
  // Not connected: libmosquitto has queued the message and sends it once it is again.
  if (code == MOSQ_ERR_SUCCESS || code == MOSQ_ERR_NO_CONN) return absl::OkStatus();
  MutexLock lock(&mu_);
  --published_;
  return LibraryError(code, fmt::format("cannot publish to '{}'", topic));
}

absl::Status Publisher::Flush() {
  MutexLock lock(&mu_);
  while (acknowledged_ < published_ && refused_connection_.ok()) Wait(changed_, &mu_);
  if (!refused_connection_.ok()) {
    return absl::Status(refused_connection_.code(),
                        fmt::format("{} ({} messages not acknowledged)",
                                    MessageOf(refused_connection_), published_ - acknowledged_));
  }
  if (refused_ == 0) return absl::OkStatus();
  absl::Status status(last_refusal_.code(),
                      fmt::format("{} ({} messages refused)", MessageOf(last_refusal_), refused_));
  refused_ = 0;
  return status;
}

std::uint64_t Publisher::published() const {
  MutexLock lock(&mu_);
  return published_;
}

}  // namespace bikestream::mqtt
