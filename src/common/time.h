// Time as the whole code base holds it: instants in microseconds since the Unix epoch, UTC, and
// durations in microseconds. Exact, cheap to compare and to window, and what the warehouses
// store.
#pragma once

#include <cstdint>

namespace bikestream {

// An instant.
using TimestampMicros = std::int64_t;
// A length of time. The same integer as an instant, so that an instant plus a duration is an
// instant and two instants' difference a duration without conversions; the name says which a
// value is.
using DurationMicros = std::int64_t;

inline constexpr DurationMicros kMicrosPerMilli = 1'000;
inline constexpr DurationMicros kMicrosPerSecond = 1'000'000;
inline constexpr DurationMicros kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr DurationMicros kMicrosPerHour = 60 * kMicrosPerMinute;

// [from, to) of time.
struct TimePeriod {
  TimestampMicros from = 0;
  TimestampMicros to = 0;
};

}  // namespace bikestream
