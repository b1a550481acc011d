// Instants as the whole code base holds them: microseconds since the Unix epoch, UTC. Exact,
// cheap to compare and to window, and what the warehouses store.
#pragma once

#include <cstdint>

namespace bikestream {

using TimestampMicros = std::int64_t;

inline constexpr TimestampMicros kMicrosPerMilli = 1'000;
inline constexpr TimestampMicros kMicrosPerSecond = 1'000'000;
inline constexpr TimestampMicros kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr TimestampMicros kMicrosPerHour = 60 * kMicrosPerMinute;

}  // namespace bikestream
