// Where a Google Cloud client gets the OAuth 2.0 access token it sends as
// `Authorization: Bearer …`. Shared by every Google Cloud client (Pub/Sub, BigQuery).
//
// `FindDefaultCredentials` looks where Google's client libraries look (Application Default
// Credentials). Tokens that expire are cached and fetched again before they do, so a job runs
// for days. Private keys, refresh tokens and access tokens never appear in errors or logs.
// Implementations are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace bikestream::gcp {

// Enough for every Google API bikestream calls (Pub/Sub, BigQuery).
inline constexpr const char* kCloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

class Credentials {
 public:
  virtual ~Credentials() = default;
  // A token valid now. kUnauthenticated with a line that names the fix when there is none;
  // kUnavailable when the token endpoint could not be reached (worth retrying).
  virtual absl::StatusOr<std::string> AccessToken() = 0;
  // A service refused `token` (HTTP 401): the next AccessToken() fetches a new one, where
  // this source can.
  virtual void Reject(const std::string& token) = 0;
};

// A token given as it is, e.g. $GOOGLE_OAUTH_ACCESS_TOKEN. It cannot be refreshed.
std::unique_ptr<Credentials> MakeAccessTokenCredentials(std::string token);

// The metadata server's token for the default service account (GCE, Cloud Run, GKE).
// `metadata_host` is "host[:port]"; `clock` must outlive the credentials.
std::unique_ptr<Credentials> MakeMetadataServerCredentials(std::string metadata_host, Clock& clock);

// The contents of a JSON credentials file: a service account key or an authorized user (what
// `gcloud auth application-default login` writes), with `scope` the access asked for.
// kInvalidArgument naming `origin` (e.g. "GOOGLE_APPLICATION_CREDENTIALS=/path") and what to
// fix when the file is not one of those.
absl::StatusOr<std::unique_ptr<Credentials>> MakeCredentialsFromJson(const std::string& contents,
                                                                     const std::string& origin,
                                                                     const std::string& scope,
                                                                     Clock& clock);

// What Application Default Credentials look at, read from the environment by the caller.
struct CredentialsEnvironment {
  std::string access_token;      // $GOOGLE_OAUTH_ACCESS_TOKEN
  std::string credentials_file;  // $GOOGLE_APPLICATION_CREDENTIALS
  std::string gcloud_config;     // $CLOUDSDK_CONFIG, else ~/.config/gcloud ("" when neither)
  std::string metadata_host = "metadata.google.internal";  // $GCE_METADATA_HOST
};

// In Google's order: the given token; the key file named by $GOOGLE_APPLICATION_CREDENTIALS
// (an error if it is missing or malformed, never skipped); gcloud's
// application_default_credentials.json; the metadata server.
absl::StatusOr<std::unique_ptr<Credentials>> FindDefaultCredentials(
    const CredentialsEnvironment& env, const std::string& scope, Clock& clock);

// FindDefaultCredentials with this process's environment: $GOOGLE_OAUTH_ACCESS_TOKEN,
// $GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file under $CLOUDSDK_CONFIG (else
// ~/.config/gcloud), the metadata server at $GCE_METADATA_HOST (else
// metadata.google.internal), for the cloud-platform scope. Shared by every Google client.
absl::StatusOr<std::shared_ptr<Credentials>> CredentialsFromProcessEnvironment();

}  // namespace bikestream::gcp
