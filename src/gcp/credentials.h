// Where a Google Cloud client gets the OAuth 2.0 access token it sends as
// `Authorization: Bearer …`. Shared by every Google Cloud client (Pub/Sub, BigQuery).
// Tokens never appear in errors or logs. Implementations are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "gcp/http_client.h"

namespace bikestream::gcp {

class Credentials {
 public:
  virtual ~Credentials() = default;
  // A token valid now; refreshed before it expires where the source can refresh it.
  // kUnauthenticated, with what to set, when there is none.
  virtual absl::StatusOr<std::string> AccessToken() = 0;
};

// A token given as it is, e.g. $GOOGLE_OAUTH_ACCESS_TOKEN.
std::unique_ptr<Credentials> MakeAccessTokenCredentials(std::string token);

// The metadata server's token for the default service account (GCE, Cloud Run, GKE), cached
// until a minute before it expires. `http` and `clock` must outlive the credentials.
std::unique_ptr<Credentials> MakeMetadataServerCredentials(HttpClient& http, Clock& clock);

}  // namespace bikestream::gcp
