#include "gcp/google_api.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/redact.h"
#include "common/status.h"
#include "gcp/oauth.h"

namespace bikestream::gcp {
namespace {
using json = nlohmann::json;
constexpr int kMaxAttempts = 6;
constexpr std::size_t kMaxBodyInError = 200;
}  // namespace

absl::StatusCode CodeForHttp(long status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAlreadyExists;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 499:
      return absl::StatusCode::kCancelled;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return status >= 500 ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown;
  }
}

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

RetryPolicy DefaultRetryPolicy() {
  return RetryPolicy{.initial_backoff = 100 * kMicrosPerMilli,
                     .max_backoff = 10 * kMicrosPerSecond,
                     .jitter = true,
                     .max_attempts = kMaxAttempts};
}

absl::Status ErrorFromReply(std::string_view service, std::string_view operation,
                            const http::HttpResponse& response,
                            const std::function<std::string(absl::StatusCode)>& hint_for) {
  const absl::StatusCode code = CodeForHttp(response.status);
  std::string status_name, message;
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& error = body["error"];
    if (error.contains("status") && error["status"].is_string()) status_name = error["status"];
    if (error.contains("message") && error["message"].is_string()) message = error["message"];
  }
  // What a server says may echo what it was sent (a token, a secret in a URL).
  message = RemoteText(message.empty() ? response.body : message, kMaxBodyInError);
  const std::string hint = hint_for ? hint_for(code) : "";
  return absl::Status(
      code, fmt::format("{} {}: HTTP {} {}: {}{}", service, operation, response.status, status_name,
                        message, hint.empty() ? "" : fmt::format(" ({})", hint)));
}

absl::StatusOr<http::HttpResponse> SendAuthorized(http::HttpClient& http, Credentials* credentials,
                                                  const std::string& method, const std::string& url,
                                                  const std::string& body,
                                                  std::vector<std::string> headers) {
  if (!credentials) return http.Send(method, url, body, headers);
  auto token = credentials->AccessToken();
  if (!token.ok()) return MarkCredentialsError(token.status());
  headers.push_back("Authorization: Bearer " + *token);
  auto response = http.Send(method, url, body, headers);
  if (!response.ok() || response->status != 401) return response;
  credentials->Reject(*token);
  auto fresh = credentials->AccessToken();
  if (!fresh.ok()) return MarkCredentialsError(fresh.status());
  if (*fresh == *token) return response;
  headers.back() = "Authorization: Bearer " + *fresh;
  return http.Send(method, url, body, headers);
}

absl::StatusOr<nlohmann::json> SendJson(http::HttpClient& http, Credentials* credentials,
                                        const std::string& method, const std::string& url,
                                        const std::string& body, const JsonCall& call) {
  auto response = SendAuthorized(http, credentials, method, url, body,
                                 {fmt::format("Content-Type: {}", call.content_type)});
  if (!response.ok()) {
    if (IsCredentialsError(response.status())) return response.status();
    return absl::Status(
        response.status().code(),
        fmt::format("{} {}: {}{}", call.service, call.what, MessageOf(response.status()),
                    call.transport_hint.empty() ? "" : fmt::format(" ({})", call.transport_hint)));
  }
  if (response->status < 200 || response->status >= 300) return call.error_from_reply(*response);
  // A delete's answer: 204 No Content.
  if (response->body.empty()) return nlohmann::json::object();
  nlohmann::json reply = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return absl::UnavailableError(
        fmt::format("{} {}: the reply is not JSON", call.service, call.what));
  }
  return reply;
}

absl::StatusOr<std::string> CheckEndpoint(const std::string& url, const std::string& flag) {
  std::string endpoint = url;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (!IsSafeForCredentials(endpoint)) {
    return absl::InvalidArgumentError(fmt::format(
        "{} {}: give an https:// URL (requests to it carry credentials; plain http only to "
        "127.0.0.1, localhost or [::1], with no user name in it)",
        flag, RedactUrl(url)));
  }
  return endpoint;
}

}  // namespace bikestream::gcp
