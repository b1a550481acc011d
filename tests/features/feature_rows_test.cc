// Ticks cut into runs of whole ticks (feature_rows.h): what BigQuery writes in one request.
#include "features/feature_rows.h"

#include <gtest/gtest.h>

namespace bikestream {
namespace {

FeatureTick TickOf(TimestampMicros as_of, int rows) {
  FeatureTick tick{.as_of = as_of};
  for (int i = 0; i < rows; ++i) tick.rows.push_back({"S", "f", "1h", 1, as_of});
  return tick;
}

std::vector<std::vector<TimestampMicros>> AsOfsOf(
    const std::vector<std::vector<const FeatureTick*>>& runs) {
  std::vector<std::vector<TimestampMicros>> as_ofs;
  for (const auto& run : runs) {
    as_ofs.emplace_back();
    for (const FeatureTick* tick : run) as_ofs.back().push_back(tick->as_of);
  }
  return as_ofs;
}

TEST(RunsOfWholeTicks, TicksJoinARunUpToTheRowsAndALargerTickIsARunOfItsOwn) {
  const std::vector<FeatureTick> ticks = {TickOf(1, 2), TickOf(2, 2), TickOf(3, 9), TickOf(4, 1),
                                          TickOf(5, 3)};
  EXPECT_EQ(AsOfsOf(RunsOfWholeTicks(ticks, 4)),
            (std::vector<std::vector<TimestampMicros>>{{1, 2}, {3}, {4, 5}}));
}

// A tick past the rows after empty ones (a quiet hour) is still a run of its own.
TEST(RunsOfWholeTicks, ALargeTickAfterEmptyOnesIsARunOfItsOwn) {
  const std::vector<FeatureTick> ticks = {TickOf(1, 0), TickOf(2, 0), TickOf(3, 9), TickOf(4, 0)};
  EXPECT_EQ(AsOfsOf(RunsOfWholeTicks(ticks, 4)),
            (std::vector<std::vector<TimestampMicros>>{{1, 2}, {3}, {4}}));
}

}  // namespace
}  // namespace bikestream
