// Synthetic events for the warehouse benchmarks: ids `PREFIX-i`, 500 stations, a millisecond
// apart from 2025-10-18, pickups and drop-offs in turn.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string_view>

#include "event/event.h"

namespace bikestream::bench {

inline Event NumberedEvent(std::string_view prefix, std::uint64_t i) {
  return Event{fmt::format("{}-{}", prefix, i), fmt::format("S{}", i % 500),
               1760745600LL * kMicrosPerSecond + static_cast<TimestampMicros>(i) * 1000,
               i % 2 ? Kind::kDropoff : Kind::kPickup, static_cast<std::int32_t>(1 + i % 3)};
}

}  // namespace bikestream::bench
