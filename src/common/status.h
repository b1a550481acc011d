// Helpers for absl::Status shared by every part.
//
// Debian's Abseil is built with its own absl::string_view rather than std::string_view, which
// fmt cannot format; MessageOf() bridges the two.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace bikestream {

inline std::string_view MessageOf(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}

// `status` with "`prefix`: " before its message, its code and payloads kept; OK stays OK.
inline absl::Status Prefixed(std::string_view prefix, const absl::Status& status) {
  if (status.ok()) return status;
  absl::Status prefixed(status.code(), std::string(prefix) + ": " + std::string(MessageOf(status)));
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    prefixed.SetPayload(type_url, payload);
  });
  return prefixed;
}

}  // namespace bikestream
