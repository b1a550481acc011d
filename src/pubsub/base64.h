// Base64 as Pub/Sub carries message data (standard alphabet, padded).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace bikestream::pubsub {

std::string Base64Encode(const std::string& data);
// kInvalidArgument when `text` is not padded standard base64.
absl::StatusOr<std::string> Base64Decode(const std::string& text);

}  // namespace bikestream::pubsub
