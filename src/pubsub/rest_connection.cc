// Pub/Sub REST v1 (https://cloud.google.com/pubsub/docs/reference/rest) over HttpClient.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "common/limits.h"
#include "common/status.h"
#include "gcp/credentials.h"
#include "gcp/google_api.h"
#include "http/http_client.h"
#include "pubsub/pubsub.h"
#include "pubsub/wire.h"

namespace bikestream::pubsub {
namespace {

using json = nlohmann::json;

std::string HintFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kNotFound:
      return "check the project, topic and subscription names, or create them with `bikestream "
             "setup`";
    case absl::StatusCode::kUnauthenticated:
      return "the credentials were refused or have expired: a GOOGLE_OAUTH_ACCESS_TOKEN lasts an "
             "hour and "
             "cannot be refreshed (unset it to use a key file or gcloud's login); otherwise check "
             "GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`";
    case absl::StatusCode::kPermissionDenied:
      return "grant the account roles/pubsub.publisher or roles/pubsub.subscriber";
    case absl::StatusCode::kUnavailable:
      return "check that Pub/Sub (or PUBSUB_EMULATOR_HOST) is reachable";
    default:
      return "";
  }
}

class RestConnection final : public PubsubConnection {
 public:
  explicit RestConnection(ConnectionOptions options)
      : options_(std::move(options)),
        http_({.timeout = options_.timeout, .max_reply_bytes = limits::kApiReply}),
        endpoint_(options_.emulator_host.empty() ? options_.endpoint
                                                 : "http://" + options_.emulator_host) {
    if (!options_.emulator_host.empty()) {
      options_.credentials.reset();
    } else if (!options_.credentials) {
      options_.credentials =
          gcp::MakeMetadataServerCredentials("metadata.google.internal", SystemClock());
    }
  }

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
    if (!config.push_endpoint.empty())
      body["pushConfig"] = {{"pushEndpoint", config.push_endpoint}};
    const std::string path = SubscriptionPath(config.project, config.subscription);
    auto created = Call("PUT", path, body.dump(), "create subscription");
    if (created.status().code() != absl::StatusCode::kAlreadyExists) return created.status();
    return AttachedTo(path, TopicPath(config.project, config.topic));
  }
  absl::Status GetSubscription(const std::string& project,
                               const std::string& subscription) override {
    return Call("GET", SubscriptionPath(project, subscription), "", "get subscription").status();
  }
  absl::Status DeleteSubscription(const std::string& project,
                                  const std::string& subscription) override {
    return Call("DELETE", SubscriptionPath(project, subscription), "", "delete subscription")
        .status();
  }

  absl::StatusOr<std::vector<std::string>> Publish(
      const std::string& project, const std::string& topic,
      const std::vector<std::string>& payloads) override {
    json messages = json::array();
    for (const auto& payload : payloads) messages.push_back({{"data", EncodeMessageData(payload)}});
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
      return absl::UnavailableError(
          fmt::format("Pub/Sub publish: {} ids for {} messages", ids.size(), payloads.size()));
    }
    return ids;
  }

  absl::StatusOr<std::vector<ReceivedMessage>> Pull(const std::string& project,
                                                    const std::string& subscription,
                                                    int max_messages) override {
    auto reply =
        Call("POST", SubscriptionPath(project, subscription) + ":pull",
             json{{"maxMessages", max_messages}, {"returnImmediately", true}}.dump(), "pull");
    if (!reply.ok()) return reply.status();
    std::vector<ReceivedMessage> received;
    auto found = reply->find("receivedMessages");
    if (found == reply->end() || !found->is_array()) return received;
    // json::value() throws on a field of the wrong type; this is the adapter's edge.
    try {
      return ToReceived(*found);
    } catch (const json::exception& error) {
      return absl::UnavailableError(
          fmt::format("Pub/Sub pull: unexpected reply: {}", error.what()));
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
      auto data = DecodeMessageData(body.value("data", ""));
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
  // An existing subscription is fine when it reads the topic asked for: one attached to
  // another would never see the events published to this one.
  absl::Status AttachedTo(const std::string& subscription_path, const std::string& topic_path) {
    auto existing = Call("GET", subscription_path, "", "get subscription");
    if (!existing.ok()) return existing.status();
    const auto field = existing->is_object() ? existing->find("topic") : existing->end();
    const std::string topic =
        field != existing->end() && field->is_string() ? field->get<std::string>() : "";
    if (topic == topic_path) return absl::OkStatus();
    // Pub/Sub names the topic of a subscription whose topic was deleted "_deleted-topic_".
    const bool deleted = topic.empty() || topic == "_deleted-topic_";
    return absl::FailedPreconditionError(fmt::format(
        "{} exists but is attached to {}, not {}: it would never see these events. Delete it "
        "(gcloud pubsub subscriptions delete {}) or choose another --subscription",
        subscription_path, deleted ? "a deleted topic" : topic, topic_path,
        subscription_path.substr(subscription_path.rfind('/') + 1)));
  }
  static absl::Status IgnoreExists(const absl::Status& status) {
    return status.code() == absl::StatusCode::kAlreadyExists ? absl::OkStatus() : status;
  }

  absl::StatusOr<json> Call(const std::string& method, const std::string& path,
                            const std::string& body, const std::string& operation) {
    const std::string what = fmt::format("{} {}", operation, path);
    const std::string transport_hint = HintFor(absl::StatusCode::kUnavailable);
    return gcp::SendJson(http_, options_.credentials.get(), method,
                         fmt::format("{}/v1/{}", endpoint_, path), body,
                         {.service = "Pub/Sub",
                          .what = what,
                          .error_from_reply =
                              [&what](const http::HttpResponse& response) {
                                return gcp::ErrorFromReply("Pub/Sub", what, response, HintFor);
                              },
                          .transport_hint = transport_hint});
  }

  ConnectionOptions options_;
  http::HttpClient http_;
  std::string endpoint_;
};

}  // namespace

std::unique_ptr<PubsubConnection> MakeRestConnection(ConnectionOptions options) {
  return std::make_unique<RestConnection>(std::move(options));
}

}  // namespace bikestream::pubsub
