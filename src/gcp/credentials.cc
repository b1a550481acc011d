#include "gcp/credentials.h"

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/mutex.h"

namespace bikestream::gcp {
namespace {

using json = nlohmann::json;

constexpr const char* kMetadataTokenUrl =
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token";
// Refresh a token this long before it expires.
constexpr TimestampMicros kRefreshMargin = 60 * kMicrosPerSecond;
// When the server does not say how long its token lives.
constexpr int kDefaultLifetimeSeconds = 300;

class AccessTokenCredentials final : public Credentials {
 public:
  explicit AccessTokenCredentials(std::string token) : token_(std::move(token)) {}
  absl::StatusOr<std::string> AccessToken() override { return token_; }

 private:
  const std::string token_;
};

class MetadataServerCredentials final : public Credentials {
 public:
  MetadataServerCredentials(HttpClient& http, Clock& clock) : http_(http), clock_(clock) {}

  absl::StatusOr<std::string> AccessToken() override {
    // Held across the request, so that concurrent callers wait for one refresh.
    MutexLock lock(&mutex_);
    if (!token_.empty() && clock_.Now() < refresh_at_) return token_;
    auto response = http_.Send("GET", kMetadataTokenUrl, "", {"Metadata-Flavor: Google"});
    if (!response.ok() || response->status != 200) {
      return absl::UnauthenticatedError(
          "no Google Cloud credentials: set GOOGLE_OAUTH_ACCESS_TOKEN (e.g. $(gcloud auth "
          "print-access-token)), run on GCP, or set PUBSUB_EMULATOR_HOST for the emulator");
    }
    const json reply = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (!reply.is_object() || !reply.contains("access_token") || !reply["access_token"].is_string()) {
      return absl::UnauthenticatedError("the metadata server gave no access token");
    }
    token_ = reply["access_token"].get<std::string>();
    const int lifetime = reply.contains("expires_in") && reply["expires_in"].is_number_integer()
                             ? reply["expires_in"].get<int>()
                             : kDefaultLifetimeSeconds;
    refresh_at_ = clock_.Now() + lifetime * kMicrosPerSecond - kRefreshMargin;
    return token_;
  }

 private:
  HttpClient& http_;
  Clock& clock_;
  absl::Mutex mutex_;
  std::string token_ ABSL_GUARDED_BY(mutex_);
  TimestampMicros refresh_at_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace

std::unique_ptr<Credentials> MakeAccessTokenCredentials(std::string token) {
  return std::make_unique<AccessTokenCredentials>(std::move(token));
}

std::unique_ptr<Credentials> MakeMetadataServerCredentials(HttpClient& http, Clock& clock) {
  return std::make_unique<MetadataServerCredentials>(http, clock);
}

}  // namespace bikestream::gcp
