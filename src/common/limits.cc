#include "common/limits.h"

#include <fmt/format.h>

namespace bikestream::limits {

std::string BytesText(std::size_t bytes) {
  if (bytes >= kMiB && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  if (bytes >= kKiB && bytes % kKiB == 0) return fmt::format("{} KiB", bytes / kKiB);
  return fmt::format("{} bytes", bytes);
}

}  // namespace bikestream::limits
