// Google Cloud credentials from this process's environment, as Google's client libraries
// find them (Application Default Credentials); shared by the Pub/Sub and BigQuery flags.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "gcp/credentials.h"

namespace bikestream::cli {

// $GOOGLE_OAUTH_ACCESS_TOKEN, $GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file under
// $CLOUDSDK_CONFIG (else ~/.config/gcloud), the metadata server at $GCE_METADATA_HOST (else
// metadata.google.internal). An error names the variable or file to fix.
absl::StatusOr<std::shared_ptr<gcp::Credentials>> GoogleCredentialsFromEnv();

}  // namespace bikestream::cli
