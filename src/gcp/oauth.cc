#include "gcp/oauth.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "absl/status/status.h"
#include "common/mutex.h"
#include "common/redact.h"
#include "common/status.h"
#include "gcp/google_api.h"

namespace bikestream::gcp {
namespace {

using json = nlohmann::json;

constexpr DurationMicros kMaxRefreshMargin = 60 * kMicrosPerSecond;
// After a failed refresh, while the current token lasts: when to try again.
constexpr DurationMicros kRefreshRetryPause = 5 * kMicrosPerSecond;
// RFC 6749 leaves a missing expires_in to the documentation: Google's tokens live an hour.
constexpr std::int64_t kDefaultLifetimeSeconds = 3600;
constexpr std::int64_t kMaxLifetimeSeconds = 24 * 3600;
// How much of the endpoint's own words an error quotes.
constexpr std::size_t kMaxDescription = 200;
constexpr const char* kCredentialsErrorPayload = "bikestream/credentials-error";
constexpr const char* kGoogleTokenUri = "https://oauth2.googleapis.com/token";

struct UrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

}  // namespace

std::string StringField(const json& object, const char* name) {
  const auto found = object.is_object() ? object.find(name) : object.end();
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

absl::StatusOr<FetchedToken> ParseTokenReply(const std::string& body, const std::string& who) {
  const json reply = json::parse(body, nullptr, /*allow_exceptions=*/false);
  FetchedToken token{.access_token = StringField(reply, "access_token")};
  if (token.access_token.empty())
    return absl::UnavailableError(fmt::format("{} gave no access_token", who));
  RegisterTemporarySecret(token.access_token);
  const auto expires_in = reply.find("expires_in");
  token.lifetime_seconds = expires_in != reply.end() && expires_in->is_number_integer()
                               ? expires_in->get<std::int64_t>()
                               : kDefaultLifetimeSeconds;
  if (token.lifetime_seconds < 1 || token.lifetime_seconds > kMaxLifetimeSeconds) {
    token.lifetime_seconds = kDefaultLifetimeSeconds;
  }
  return token;
}

absl::StatusOr<std::string> CachingCredentials::AccessToken() {
  MutexLock lock(&mutex_);
  if (!token_.empty() && clock_.Now() < refresh_at_) return token_;
  auto fetched = Fetch();
  // The fetch may have taken its whole timeout.
  const TimestampMicros now = clock_.Now();
  if (!fetched.ok()) {
    if (token_.empty() || now >= expires_at_) return fetched.status();
    refresh_at_ = std::min(expires_at_, now + kRefreshRetryPause);
    return token_;
  }
  const DurationMicros lifetime = fetched->lifetime_seconds * kMicrosPerSecond;
  token_ = std::move(fetched->access_token);
  expires_at_ = now + lifetime;
  refresh_at_ = expires_at_ - std::min(kMaxRefreshMargin, lifetime / 4);
  return token_;
}

void CachingCredentials::Reject(const std::string& token) {
  MutexLock lock(&mutex_);
  if (token == token_) token_.clear();
}

absl::Status MarkCredentialsError(absl::Status status) {
  status.SetPayload(kCredentialsErrorPayload, absl::Cord("yes"));
  return status;
}

bool IsCredentialsError(const absl::Status& status) {
  return status.GetPayload(kCredentialsErrorPayload).has_value();
}

bool IsRefusedGrant(const std::string& error) {
  return error == "invalid_grant" || error == "invalid_client" || error == "unauthorized_client";
}

absl::StatusOr<std::string> TokenUriOf(const json& file, const std::string& origin) {
  std::string token_uri = StringField(file, "token_uri");
  if (token_uri.empty()) return std::string(kGoogleTokenUri);
  if (!IsSafeForCredentials(token_uri)) {
    return absl::InvalidArgumentError(
        fmt::format("{}: token_uri {} is refused: the credentials go to an https:// URL with no "
                    "user name in it (plain http "
                    "only to 127.0.0.1, localhost or [::1])",
                    origin, RedactUrl(token_uri)));
  }
  return token_uri;
}

absl::StatusOr<FetchedToken> RequestToken(http::HttpClient& http, const std::string& token_uri,
                                          const std::string& form, const std::string& who,
                                          const GrantHint& hint) {
  auto response =
      http.Send("POST", token_uri, form, {"Content-Type: application/x-www-form-urlencoded"});
  if (!response.ok()) {
    return absl::UnavailableError(fmt::format("{}: could not reach the token endpoint: {}", who,
                                              MessageOf(response.status())));
  }
  const long status = response->status;
  if (status == 200)
    return ParseTokenReply(response->body, fmt::format("{}: the token endpoint", who));
  if (status >= 500 || status == 408 || status == 429) {
    return absl::UnavailableError(fmt::format("{}: the token endpoint {} answered HTTP {}", who,
                                              RedactUrl(token_uri), status));
  }
  // Only the endpoint's own error fields are quoted: they never hold the grant.
  const json reply = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  const std::string error = RemoteText(StringField(reply, "error"), kMaxDescription);
  if (error.empty()) {
    return absl::UnauthenticatedError(fmt::format(
        "{}: the token endpoint {} answered HTTP {}, not an OAuth error (a proxy in the way?)", who,
        RedactUrl(token_uri), status));
  }
  const std::string description =
      RemoteText(StringField(reply, "error_description"), kMaxDescription);
  const std::string fix = hint ? hint(error, description) : "";
  return absl::UnauthenticatedError(
      fmt::format("{}: Google refused the credentials (HTTP {} {}{}{}){}", who, status, error,
                  description.empty() ? "" : ": ", description, fix.empty() ? "" : ": " + fix));
}

bool IsSafeForCredentials(const std::string& url) {
  // Parsed as libcurl will parse it when it connects, so that the host checked is the host used.
  std::unique_ptr<CURLU, UrlFree> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return false;
  const auto part = [&parsed](CURLUPart which) {
    char* value = nullptr;
    std::string text;
    if (curl_url_get(parsed.get(), which, &value, 0) == CURLUE_OK && value) text = value;
    curl_free(value);
    return text;
  };
  if (!part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty()) return false;
  const std::string scheme = part(CURLUPART_SCHEME);
  const std::string host = part(CURLUPART_HOST);
  return scheme == "https" ||
         (scheme == "http" && (host == "127.0.0.1" || host == "localhost" || host == "[::1]"));
}

}  // namespace bikestream::gcp
