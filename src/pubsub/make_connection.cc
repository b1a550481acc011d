#include "gcp/credentials.h"
#include "gcp/google_api.h"
#include "pubsub/pubsub.h"

namespace bikestream::pubsub {

absl::StatusOr<std::unique_ptr<PubsubConnection>> MakeConnection(ConnectionOptions options) {
  auto endpoint = gcp::CheckEndpoint(options.endpoint, "--pubsub-endpoint");
  if (!endpoint.ok()) return endpoint.status();
  options.endpoint = std::move(*endpoint);
  if (options.emulator_host.empty() && !options.credentials) {
    auto credentials = gcp::CredentialsFromProcessEnvironment();
    if (!credentials.ok()) return credentials.status();
    options.credentials = std::move(*credentials);
  }
  return MakeRetryingConnection(MakeRestConnection(std::move(options)));
}

}  // namespace bikestream::pubsub
