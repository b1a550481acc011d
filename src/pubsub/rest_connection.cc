// Pub/Sub REST v1 (https://cloud.google.com/pubsub/docs/reference/rest) over HttpClient.
#include <fmt/format.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "common/status.h"
#include "pubsub/base64.h"
#include "pubsub/http_client.h"
#include "pubsub/pubsub.h"

namespace bikestream::pubsub {
namespace {

using json = nlohmann::json;

constexpr const char* kCloudEndpoint = "https://pubsub.googleapis.com";
constexpr const char* kMetadataTokenUrl =
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token";
// Refresh a metadata-server token this long before it expires.
constexpr auto kTokenRefreshMargin = std::chrono::seconds(60);

absl::StatusCode CodeForHttp(long status) {
  switch (status) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    case 409: return absl::StatusCode::kAlreadyExists;
    case 429: return absl::StatusCode::kResourceExhausted;
    case 499: return absl::StatusCode::kCancelled;
    case 504: return absl::StatusCode::kDeadlineExceeded;
    default: return status >= 500 ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown;
  }
}

std::string HintFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kNotFound:
      return "check the project, topic and subscription names, or create them with `bikestream setup`";
    case absl::StatusCode::kUnauthenticated:
      return "set GOOGLE_OAUTH_ACCESS_TOKEN (e.g. $(gcloud auth print-access-token)) or run on GCP";
    case absl::StatusCode::kPermissionDenied:
      return "grant the account roles/pubsub.publisher or roles/pubsub.subscriber";
    case absl::StatusCode::kUnavailable:
      return "check that Pub/Sub (or PUBSUB_EMULATOR_HOST) is reachable";
    default:
      return "";
  }
}

// "HTTP 404 NOT_FOUND: Topic not found (check ...)" from the service's error body.
absl::Status ErrorFrom(const std::string& operation, const HttpResponse& response) {
  const absl::StatusCode code = CodeForHttp(response.status);
  std::string status_name, message;
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& error = body["error"];
    if (error.contains("status") && error["status"].is_string()) status_name = error["status"];
    if (error.contains("message") && error["message"].is_string()) message = error["message"];
  }
  if (message.empty()) message = response.body.substr(0, 200);
  const std::string hint = HintFor(code);
  return absl::Status(code, fmt::format("Pub/Sub {}: HTTP {} {}: {}{}", operation, response.status,
                                        status_name, message,
                                        hint.empty() ? "" : fmt::format(" ({})", hint)));
}

class RestConnection final : public PubsubConnection {
 public:
  explicit RestConnection(ConnectionOptions options)
      : options_(std::move(options)),
        http_(options_.timeout),
        endpoint_(options_.emulator_host.empty() ? kCloudEndpoint
                                                  : "http://" + options_.emulator_host) {}

  absl::Status CreateTopic(const std::string& project, const std::string& topic) override {
    return IgnoreExists(Call("PUT", TopicPath(project, topic), "{}", "create topic").status());
  }
  absl::Status GetTopic(const std::string& project, const std::string& topic) override {
    return Call("GET", TopicPath(project, topic), "", "get topic").status();
  }
  absl::Status DeleteTopic(const std::string& project, const std::string& topic) override {
    return Call("DELETE", TopicPath(project, topic), "", "delete topic").status();
  }

  absl::Status CreateSubscription(const SubscriptionConfig& config) override {
    json body = {{"topic", TopicPath(config.project, config.topic)},
                 {"ackDeadlineSeconds", config.ack_deadline_seconds}};
    if (!config.push_endpoint.empty()) body["pushConfig"] = {{"pushEndpoint", config.push_endpoint}};
    return IgnoreExists(Call("PUT", SubscriptionPath(config.project, config.subscription),
                             body.dump(), "create subscription")
                            .status());
  }
  absl::Status GetSubscription(const std::string& project, const std::string& subscription) override {
    return Call("GET", SubscriptionPath(project, subscription), "", "get subscription").status();
  }
  absl::Status DeleteSubscription(const std::string& project,
                                  const std::string& subscription) override {
    return Call("DELETE", SubscriptionPath(project, subscription), "", "delete subscription").status();
  }

  absl::StatusOr<std::vector<std::string>> Publish(const std::string& project,
                                                   const std::string& topic,
                                                   const std::vector<std::string>& payloads) override {
    json messages = json::array();
    for (const auto& payload : payloads) messages.push_back({{"data", Base64Encode(payload)}});
    auto reply = Call("POST", TopicPath(project, topic) + ":publish",
                      json{{"messages", std::move(messages)}}.dump(), "publish");
    if (!reply.ok()) return reply.status();
    std::vector<std::string> ids;
    if (auto found = reply->find("messageIds"); found != reply->end() && found->is_array()) {
      for (const auto& id : *found) {
        if (id.is_string()) ids.push_back(id.get<std::string>());
      }
    }
    if (ids.size() != payloads.size()) {
      return absl::UnavailableError(fmt::format("Pub/Sub publish: {} ids for {} messages",
                                                ids.size(), payloads.size()));
    }
    return ids;
  }

  absl::StatusOr<std::vector<ReceivedMessage>> Pull(const std::string& project,
                                                    const std::string& subscription,
                                                    int max_messages) override {
    auto reply = Call("POST", SubscriptionPath(project, subscription) + ":pull",
                      json{{"maxMessages", max_messages}, {"returnImmediately", true}}.dump(),
                      "pull");
    if (!reply.ok()) return reply.status();
    std::vector<ReceivedMessage> received;
    auto found = reply->find("receivedMessages");
    if (found == reply->end() || !found->is_array()) return received;
    // json::value() throws on a field of the wrong type; this is the adapter's edge.
    try {
      return ToReceived(*found);
    } catch (const json::exception& error) {
      return absl::UnavailableError(fmt::format("Pub/Sub pull: unexpected reply: {}", error.what()));
    }
  }

  static std::vector<ReceivedMessage> ToReceived(const json& items) {
    std::vector<ReceivedMessage> received;
    for (const auto& item : items) {
      if (!item.is_object()) continue;
      ReceivedMessage message;
      message.ack_id = item.value("ackId", "");
      message.delivery_attempt = item.value("deliveryAttempt", 0);
      const json body = item.value("message", json::object());
      auto data = Base64Decode(body.value("data", ""));
      // Undecodable data is kept raw: the ingest job dead-letters it rather than losing it.
      message.message.data = data.ok() ? std::move(*data) : body.value("data", "");
      message.message.message_id = body.value("messageId", "");
      auto published = ParseRfc3339(body.value("publishTime", ""));
      message.message.publish_time = published.ok() ? *published : 0;
      received.push_back(std::move(message));
    }
    return received;
  }

  absl::Status Acknowledge(const std::string& project, const std::string& subscription,
                           const std::vector<std::string>& ack_ids) override {
    if (ack_ids.empty()) return absl::OkStatus();
    return Call("POST", SubscriptionPath(project, subscription) + ":acknowledge",
                json{{"ackIds", ack_ids}}.dump(), "acknowledge")
        .status();
  }

  absl::Status ModifyAckDeadline(const std::string& project, const std::string& subscription,
                                 const std::vector<std::string>& ack_ids,
                                 int ack_deadline_seconds) override {
    if (ack_ids.empty()) return absl::OkStatus();
    return Call("POST", SubscriptionPath(project, subscription) + ":modifyAckDeadline",
                json{{"ackIds", ack_ids}, {"ackDeadlineSeconds", ack_deadline_seconds}}.dump(),
                "modifyAckDeadline")
        .status();
  }

 private:
  static std::string TopicPath(const std::string& project, const std::string& topic) {
    return fmt::format("projects/{}/topics/{}", project, topic);
  }
  static std::string SubscriptionPath(const std::string& project, const std::string& subscription) {
    return fmt::format("projects/{}/subscriptions/{}", project, subscription);
  }
  static absl::Status IgnoreExists(absl::Status status) {
    return status.code() == absl::StatusCode::kAlreadyExists ? absl::OkStatus() : status;
  }

  absl::StatusOr<json> Call(const std::string& method, const std::string& path,
                            const std::string& body, const std::string& operation) {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (options_.emulator_host.empty()) {
      auto token = AccessToken();
      if (!token.ok()) return token.status();
      headers.push_back("Authorization: Bearer " + *token);
    }
    const std::string what = fmt::format("{} {}", operation, path);
    auto response = http_.Send(method, fmt::format("{}/v1/{}", endpoint_, path), body, headers);
    if (!response.ok()) {
      return absl::Status(response.status().code(),
                          fmt::format("Pub/Sub {}: {} ({})", what, MessageOf(response.status()),
                                      HintFor(absl::StatusCode::kUnavailable)));
    }
    if (response->status < 200 || response->status >= 300) return ErrorFrom(what, *response);
    json reply = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (reply.is_discarded() || !reply.is_object()) {
      return absl::UnavailableError(fmt::format("Pub/Sub {}: the reply is not JSON", what));
    }
    return reply;
  }

  absl::StatusOr<std::string> AccessToken() {
    if (!options_.access_token.empty()) return options_.access_token;
    std::lock_guard lock(token_mutex_);
    if (!token_.empty() && std::chrono::steady_clock::now() < token_expiry_) return token_;
    auto response = http_.Send("GET", kMetadataTokenUrl, "", {"Metadata-Flavor: Google"});
    if (!response.ok() || response->status != 200) {
      return absl::UnauthenticatedError(
          "no credentials for Pub/Sub: set GOOGLE_OAUTH_ACCESS_TOKEN (e.g. $(gcloud auth "
          "print-access-token)), run on GCP, or set PUBSUB_EMULATOR_HOST for the emulator");
    }
    json reply = json::parse(response->body, nullptr, false);
    if (!reply.is_object() || !reply.contains("access_token")) {
      return absl::UnauthenticatedError("the metadata server gave no access token");
    }
    if (!reply["access_token"].is_string()) {
      return absl::UnauthenticatedError("the metadata server gave no access token");
    }
    token_ = reply["access_token"].get<std::string>();
    const int expires_in = reply.contains("expires_in") && reply["expires_in"].is_number_integer()
                               ? reply["expires_in"].get<int>()
                               : 300;
    token_expiry_ = std::chrono::steady_clock::now() + std::chrono::seconds(expires_in) -
                    kTokenRefreshMargin;
    return token_;
  }

  ConnectionOptions options_;
  HttpClient http_;
  std::string endpoint_;
  std::mutex token_mutex_;
  std::string token_;
  std::chrono::steady_clock::time_point token_expiry_;
};

}  // namespace

std::unique_ptr<PubsubConnection> MakeRestConnection(ConnectionOptions options) {
  return std::make_unique<RestConnection>(std::move(options));
}

}  // namespace bikestream::pubsub
