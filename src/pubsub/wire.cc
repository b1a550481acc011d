#include "pubsub/wire.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "common/status.h"

namespace bikestream::pubsub {
namespace {

using json = nlohmann::json;

absl::string_view AbslView(std::string_view text) { return {text.data(), text.size()}; }

// The string at `key`, or "" when it is missing or not a string.
std::string TextAt(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// The field under either spelling Pub/Sub uses (JSON or proto names).
std::string EitherOf(const json& object, const char* camel, const char* snake) {
  std::string value = TextAt(object, camel);
  return value.empty() ? TextAt(object, snake) : value;
}

}  // namespace

std::string EncodeMessageData(std::string_view data) { return absl::Base64Escape(AbslView(data)); }

absl::StatusOr<std::string> DecodeMessageData(std::string_view text) {
  std::string decoded;
  if (text.size() % 4 != 0 || !absl::Base64Unescape(AbslView(text), &decoded)) {
    return absl::InvalidArgumentError("the Pub/Sub message data is not base64");
  }
  return decoded;
}

absl::StatusOr<PushedMessage> ParsePushEnvelope(std::string_view body) {
  const json envelope = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!envelope.is_object() || !envelope.contains("message") || !envelope["message"].is_object()) {
    return absl::InvalidArgumentError("expected a Pub/Sub push envelope: {\"message\":{...},\"subscription\":...}");
  }
  const json& message = envelope["message"];
  PushedMessage pushed;
  pushed.message_id = EitherOf(message, "messageId", "message_id");
  if (pushed.message_id.empty()) return absl::InvalidArgumentError("the push message has no messageId");
  const std::string data = TextAt(message, "data");
  auto decoded = DecodeMessageData(data);
  // Not a conditional expression: its result would be a copy of the decoded data, not a move.
  if (decoded.ok()) {
    pushed.payload = std::move(*decoded);
  } else {
    pushed.payload = data;
    pushed.decode_error = std::string(MessageOf(decoded.status()));
  }
  auto publish_time = ParseRfc3339(EitherOf(message, "publishTime", "publish_time"));
  pushed.publish_time = publish_time.ok() ? *publish_time : 0;
  pushed.subscription = TextAt(envelope, "subscription");
  return pushed;
}

}  // namespace bikestream::pubsub
