// What the credentials that fetch tokens share (internal to gcp/): the token cache, the
// OAuth 2.0 token endpoint, and the service account's signed assertion.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "gcp/credentials.h"
#include "http/http_client.h"

namespace bikestream::gcp {

// How long a token endpoint may take to answer.
inline constexpr std::chrono::seconds kTokenRequestTimeout{30};

struct FetchedToken {
  std::string access_token;
  std::int64_t lifetime_seconds = 0;  // The reply's expires_in, within [1 s, a day].
};

// {access_token, expires_in} as token endpoints and the metadata server answer; an
// expires_in that is missing or out of range counts as Google's hour. `who` names the source
// in errors (kUnavailable: worth retrying).
absl::StatusOr<FetchedToken> ParseTokenReply(const std::string& body, const std::string& who);

// A string field of a JSON object, "" when it is missing or not a string.
std::string StringField(const nlohmann::json& object, const char* name);

// Credentials whose tokens expire: each is fetched once and kept until shortly before it
// expires (a quarter of its life, at most a minute). While a refresh fails, the current token
// serves until it expires, and the refresh is tried again after a short pause, not on every
// call.
class CachingCredentials : public Credentials {
 public:
  explicit CachingCredentials(Clock& clock) : clock_(clock) {}
  absl::StatusOr<std::string> AccessToken() final;
  void Reject(const std::string& token) final;

 protected:
  Clock& clock() { return clock_; }
  virtual absl::StatusOr<FetchedToken> Fetch() = 0;

 private:
  Clock& clock_;
  // Held across a fetch, so that concurrent callers wait for one refresh.
  absl::Mutex mutex_;
  std::string token_ ABSL_GUARDED_BY(mutex_);
  TimestampMicros refresh_at_ ABSL_GUARDED_BY(mutex_) = 0;
  TimestampMicros expires_at_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Marks a credential error for IsCredentialsError (google_api.h).
absl::Status MarkCredentialsError(absl::Status status);

// What to do about a grant the token endpoint refused, from its `error` and
// `error_description`; "" for nothing to add.
using GrantHint =
    std::function<std::string(const std::string& error, const std::string& description)>;

// Whether an OAuth error says the grant itself is no good (a revoked refresh token, a deleted
// key, a disabled account), as opposed to a malformed request.
bool IsRefusedGrant(const std::string& error);

// The token URI of a credentials file, Google's when it names none; kInvalidArgument naming
// `origin` when credentials would go to it in the clear.
absl::StatusOr<std::string> TokenUriOf(const nlohmann::json& file, const std::string& origin);

// POSTs a form to an OAuth 2.0 token endpoint and reads {access_token, expires_in}.
// A refused grant (an OAuth error) is kUnauthenticated: "`who`: Google refused …:
// DESCRIPTION: HINT"; an endpoint that cannot be reached, is busy (408, 429) or fails (5xx) is
// kUnavailable.
absl::StatusOr<FetchedToken> RequestToken(http::HttpClient& http, const std::string& token_uri,
                                          const std::string& form, const std::string& who,
                                          const GrantHint& hint);

// A URL that may receive a credential: https, or plain http to this machine only (127.0.0.1,
// localhost, [::1]); never one with a user name or password in it.
bool IsSafeForCredentials(const std::string& url);

// A service account key file's fields.
struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;  // PEM (PKCS#8), as Google's key files hold it.
  std::string private_key_id;
  std::string token_uri;
};

// The JWT bearer assertion of RFC 7523 as Google's token endpoint takes it: RS256-signed,
// with iss = the account, scope, aud = the token URI, iat = `now`, exp = an hour later.
// kInvalidArgument when the private key cannot be read.
absl::StatusOr<std::string> MakeJwtAssertion(const ServiceAccountKey& key, const std::string& scope,
                                             TimestampMicros now);

// A service account's tokens, from signed assertions. `origin` names the key in errors.
absl::StatusOr<std::unique_ptr<Credentials>> MakeServiceAccountCredentials(ServiceAccountKey key,
                                                                           std::string scope,
                                                                           std::string origin,
                                                                           Clock& clock);

}  // namespace bikestream::gcp
