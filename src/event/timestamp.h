// RFC 3339 timestamps, as events carry them in `ts_iso`.
//
// Instants are held as microseconds since the Unix epoch in UTC: exact, cheap to compare
// and to window, and what the warehouse stores. Thread-safe: these are pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/time.h"

namespace bikestream {

// The instants bikestream accepts, in UTC: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z.
// One rule for every warehouse: it is BigQuery's TIMESTAMP range, PostgreSQL and SQLite store
// it whole, and its years print in four digits. An offset can move a written date outside
// it (`0001-01-01T00:00:00+01:00` is year 0 in UTC): the instant decides, not the text.
inline constexpr TimestampMicros kMinTimestamp = -62135596800LL * kMicrosPerSecond;
inline constexpr TimestampMicros kMaxTimestamp = 253402300800LL * kMicrosPerSecond - 1;

// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` and returns the instant in UTC.
// The `T` and `Z` may be lower case. Fractions of 1 to 9 digits are accepted and truncated
// to microseconds. Impossible dates and times (Feb 30, month 13, 24:00:01, a leap second), a
// missing offset and an instant outside [kMinTimestamp, kMaxTimestamp] are kInvalidArgument
// with a message saying which part is wrong.
absl::StatusOr<TimestampMicros> ParseRfc3339(std::string_view text);

// Parses an instant as people and their tools write it: RFC 3339 as above, and the forms
// pandas, PostgreSQL and BigQuery print — a space for the `T` (`2024-10-13 12:00:00+00:00`),
// `+00` or `+0000` or ` UTC` for the offset, seconds left out (`2024-10-13 12:00`), a date
// alone (its midnight), no offset at all (UTC, as pandas writes a naive time). For what a user
// gives (flags, labels files, SQL literals); events themselves must carry RFC 3339.
absl::StatusOr<TimestampMicros> ParseTimestamp(std::string_view text);

// Whether `micros` is inside [kMinTimestamp, kMaxTimestamp].
inline bool InTimestampRange(TimestampMicros micros) {
  return micros >= kMinTimestamp && micros <= kMaxTimestamp;
}

// Formats as `YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` when the microseconds are not zero.
std::string FormatRfc3339(TimestampMicros micros);

// The longest duration ParseDuration reads: 100,000 days (274 years), far below where its
// microseconds would overflow. Each use bounds its own durations further (a feature's window,
// a flag).
inline constexpr DurationMicros kMaxDuration = 100'000LL * 86'400 * kMicrosPerSecond;

// Parses a duration such as `90s`, `15m`, `2h`, `7d`, or a sum of them (`1h30m`): whole
// seconds, at most kMaxDuration (kInvalidArgument past it, never a wrapped value).
absl::StatusOr<DurationMicros> ParseDuration(std::string_view text);

}  // namespace bikestream
