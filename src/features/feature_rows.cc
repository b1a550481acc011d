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

}  // namespace bikestream
