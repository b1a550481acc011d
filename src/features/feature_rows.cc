#include "features/feature_rows.h"

#include <algorithm>

namespace bikestream {

void KindTotals::Add(std::int32_t delta) {
  min = count == 0 ? delta : std::min(min, delta);
  max = count == 0 ? delta : std::max(max, delta);
  ++count;
  sum += delta;
}

void KindTotals::Merge(const KindTotals& other) {
  if (other.count == 0) return;
  min = count == 0 ? other.min : std::min(min, other.min);
  max = count == 0 ? other.max : std::max(max, other.max);
  count += other.count;
  sum += other.sum;
}

std::vector<std::vector<const FeatureTick*>> RunsOfWholeTicks(const std::vector<FeatureTick>& ticks,
                                                              std::size_t max_rows) {
  std::vector<std::vector<const FeatureTick*>> runs;
  std::size_t rows = 0;
  for (const FeatureTick& tick : ticks) {
    // A run of only empty ticks ends too before a tick past max_rows: that one goes alone.
    if (runs.empty() || (!runs.back().empty() && rows + tick.rows.size() > max_rows)) {
      runs.emplace_back();
      rows = 0;
    }
    runs.back().push_back(&tick);
    rows += tick.rows.size();
  }
  return runs;
}

}  // namespace bikestream
