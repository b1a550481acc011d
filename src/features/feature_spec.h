// Feature definitions are data: a name, a window, an aggregate of `delta` or a count, and a
// filter on kind. The built-in default is docs/design.md's table; a TOML file replaces it.
//
// Semantics (docs/design.md): a window W at as_of holds events with as_of − W < ts ≤ as_of
// (all_time: ts ≤ as_of). Count and sum give a row for every station known up to as_of (0
// when none fall in the window); avg, min and max give no row over nothing; top_share gives
// 1.0 to the stations whose count is ≥ the k-th largest among the known stations,
// k = ceil(share × their number), and > 0, else 0.0.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"

namespace bikestream {

// What a feature computes; each one's name, rows and values are its line in aggregates.cc.
enum class Aggregate { kCount, kSum, kAvg, kMin, kMax, kTopShare };

// The windows a feature may have, from a second to 366 days: one range for every engine and
// the streaming one, checked when a feature file is loaded, so that a feature that loads runs
// everywhere (a window of millennia would run on SQLite and fail every run on PostgreSQL or
// BigQuery, whose timestamps end sooner) and no sum of windows, lateness and tick overflows.
inline constexpr DurationMicros kMinWindow = kMicrosPerSecond;
inline constexpr DurationMicros kMaxWindow = 366 * 24 * kMicrosPerHour;

struct FeatureSpec {
  std::string name;                      // feature_name, e.g. pickup_count.
  std::string window_len;                // As written: 2h, 24h, 7d, all_time.
  std::optional<DurationMicros> window;  // Empty for all_time.
  Aggregate aggregate = Aggregate::kCount;
  std::optional<Kind> kind;  // Only events of this kind. Default: all.
  double share = 0.1;        // top_share only.
};

// k = ceil(share × stations): the rank a top_share count must reach. A small tolerance keeps
// 0.1 × 30 at 3, not 4 (0.1 × 30 is 3.0000000000000004 in binary); every engine, SQL or
// streaming, computes k this way.
inline constexpr double kTopShareRankTolerance = 1e-9;
std::size_t TopShareRank(double share, std::size_t stations);

// docs/design.md's four: pickup_count 2h, dropoff_count 2h, avg_delta_pickup 24h,
// is_peak_station all_time (top 10% by pickups).
std::vector<FeatureSpec> DefaultFeatures();

// The features' names, in order.
std::vector<std::string> FeatureNames(const std::vector<FeatureSpec>& features);

// Parses a TOML feature file:
//   [[feature]]
//   name = "pickup_count"      # [a-z0-9_]+, unique
//   window = "2h"              # 30m, 2h, 24h, 7d, ... or all_time
//   aggregate = "count"        # count, sum, avg, min, max (of delta), top_share
//   kind = "pickup"            # optional: pickup or dropoff
//   share = 0.1                # top_share only, in (0, 1]
// Errors name the file, the line and the field.
absl::StatusOr<std::vector<FeatureSpec>> ParseFeatureFile(std::string_view toml_text,
                                                          std::string_view file_name);
absl::StatusOr<std::vector<FeatureSpec>> LoadFeatureFile(const std::string& path);

}  // namespace bikestream
