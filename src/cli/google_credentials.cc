#include "cli/google_credentials.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "cli/cli_common.h"
#include "common/clock.h"

namespace bikestream::cli {

absl::StatusOr<std::shared_ptr<gcp::Credentials>> GoogleCredentialsFromEnv() {
  // A token pasted with its newline would put a CR/LF into a header.
  gcp::CredentialsEnvironment env{.access_token = std::string(absl::StripAsciiWhitespace(
                                      FirstEnv({"GOOGLE_OAUTH_ACCESS_TOKEN"}))),
                                  .credentials_file = FirstEnv({"GOOGLE_APPLICATION_CREDENTIALS"}),
                                  .gcloud_config = FirstEnv({"CLOUDSDK_CONFIG"})};
  if (env.gcloud_config.empty()) {
    if (std::string home = FirstEnv({"HOME"}); !home.empty()) {
      env.gcloud_config = (std::filesystem::path(home) / ".config" / "gcloud").string();
    }
  }
  if (std::string host = FirstEnv({"GCE_METADATA_HOST"}); !host.empty()) env.metadata_host = host;
  auto credentials = gcp::FindDefaultCredentials(env, gcp::kCloudPlatformScope, SystemClock());
  if (!credentials.ok()) return credentials.status();
  return std::shared_ptr<gcp::Credentials>(std::move(*credentials));
}

}  // namespace bikestream::cli
