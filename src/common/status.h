// Helpers for absl::Status shared by every part.
//
// Debian's Abseil is built with its own absl::string_view rather than std::string_view, which
// fmt cannot format; MessageOf() bridges the two.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace bikestream {

inline std::string_view MessageOf(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}

}  // namespace bikestream
