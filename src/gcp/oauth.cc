#include "gcp/oauth.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "common/mutex.h"
#include "common/status.h"
#include "gcp/google_api.h"

namespace bikestream::gcp {
namespace {

using json = nlohmann::json;

constexpr TimestampMicros kMaxRefreshMargin = 60 * kMicrosPerSecond;

std::string StringField(const json& object, const char* name) {
  const auto found = object.is_object() ? object.find(name) : object.end();
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<std::string> CachingCredentials::AccessToken() {
  MutexLock lock(&mutex_);
  const TimestampMicros now = clock_.Now();
  if (!token_.empty() && now < refresh_at_) return token_;
  auto fetched = Fetch();
  if (!fetched.ok()) {
    if (!token_.empty() && now < expires_at_ && IsRetryable(fetched.status())) return token_;
    return fetched.status();
  }
  const TimestampMicros lifetime = fetched->lifetime_seconds * kMicrosPerSecond;
  token_ = std::move(fetched->access_token);
  expires_at_ = now + lifetime;
  refresh_at_ = expires_at_ - std::min(kMaxRefreshMargin, lifetime / 4);
  return token_;
}

void CachingCredentials::Reject(const std::string& token) {
  MutexLock lock(&mutex_);
  if (token == token_) token_.clear();
}

absl::StatusOr<FetchedToken> RequestToken(HttpClient& http, const std::string& token_uri,
                                          const std::string& form, const std::string& who,
                                          const GrantHint& hint) {
  auto response = http.Send("POST", token_uri, form, {"Content-Type: application/x-www-form-urlencoded"});
  if (!response.ok()) {
    return absl::UnavailableError(
        fmt::format("{}: could not reach the token endpoint: {}", who, MessageOf(response.status())));
  }
  const json reply = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (response->status >= 500 || (response->status >= 200 && response->status < 300 && !reply.is_object())) {
    return absl::UnavailableError(
        fmt::format("{}: the token endpoint {} answered HTTP {}", who, token_uri, response->status));
  }
  if (response->status != 200) {
    // Only the endpoint's own error fields are quoted: they never hold the grant.
    const std::string error = StringField(reply, "error");
    const std::string description = StringField(reply, "error_description");
    const std::string fix = hint ? hint(error, description) : "";
    return absl::UnauthenticatedError(fmt::format(
        "{}: Google refused the credentials (HTTP {} {}{}{}){}", who, response->status,
        error.empty() ? "no reason given" : error, description.empty() ? "" : ": ", description,
        fix.empty() ? "" : ": " + fix));
  }
  FetchedToken token{.access_token = StringField(reply, "access_token")};
  if (token.access_token.empty()) {
    return absl::UnavailableError(fmt::format("{}: the token endpoint gave no access_token", who));
  }
  const auto expires_in = reply.find("expires_in");
  // Without expires_in, RFC 6749 leaves the lifetime to the documentation: Google's is an hour.
  token.lifetime_seconds = expires_in != reply.end() && expires_in->is_number_integer()
                               ? expires_in->get<std::int64_t>()
                               : 3600;
  return token;
}

bool IsSafeForCredentials(const std::string& url) {
  if (absl::StartsWith(url, "https://")) return true;
  for (const char* loopback : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    if (!absl::StartsWith(url, loopback)) continue;
    const std::string rest = url.substr(std::string(loopback).size());
    if (rest.empty() || rest[0] == ':' || rest[0] == '/') return true;
  }
  return false;
}

}  // namespace bikestream::gcp
