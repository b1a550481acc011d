#include "pubsub/wire.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <utility>

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

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsProjectId(std::string_view id) {
  constexpr std::size_t kMaxLength = 100;  // Domain-scoped ids ("example.com:p") are long.
  if (id.empty() || id.size() > kMaxLength || !(id[0] >= 'a' && id[0] <= 'z') || id.back() == '-')
    return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '.' || c == ':')) return false;
  }
  return true;
}

bool IsResourceName(std::string_view name) {
  constexpr std::size_t kMinLength = 3;
  constexpr std::size_t kMaxLength = 255;
  if (name.size() < kMinLength || name.size() > kMaxLength || !IsLetter(name[0]) ||
      name.starts_with("goog")) {
    return false;
  }
  for (char c : name) {
    // Pub/Sub also allows '%', for names written percent-encoded; request paths here are not
    // encoded, so such a name would reach the service as another one.
    if (!(IsLetter(c) || IsDigit(c) || std::string_view("-_.~+").find(c) != std::string_view::npos))
      return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateResourceNames(std::string_view project, std::string_view topic,
                                   std::string_view subscription) {
  if (!project.empty() && !IsProjectId(project)) {
    return absl::InvalidArgumentError(
        fmt::format("--project '{}' is not a project id: lower-case letters, digits and hyphens, "
                    "starting with a "
                    "letter (the id, not the project's display name)",
                    project));
  }
  for (auto [flag, name] :
       {std::pair{"--topic", topic}, std::pair{"--subscription", subscription}}) {
    if (!name.empty() && !IsResourceName(name)) {
      return absl::InvalidArgumentError(fmt::format(
          "{} '{}' is not a Pub/Sub name: 3 to 255 letters, digits and - _ . ~ +, starting with a "
          "letter and not with 'goog'",
          flag, name));
    }
  }
  return absl::OkStatus();
}

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
    return absl::InvalidArgumentError(
        "expected a Pub/Sub push envelope: {\"message\":{...},\"subscription\":...}");
  }
  const json& message = envelope["message"];
  PushedMessage pushed;
  pushed.message_id = EitherOf(message, "messageId", "message_id");
  if (pushed.message_id.empty())
    return absl::InvalidArgumentError("the push message has no messageId");
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
