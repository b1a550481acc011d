// Streaming and batch give identical station_features rows for every tick, on random streams
// with out-of-order, late and duplicate events.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "features/streaming_features.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

constexpr TimestampMicros kEvery = 15 * kMicrosPerMinute;
const TimestampMicros kStart = *ParseRfc3339("2025-11-16T00:00:00Z");

using RowKey = std::tuple<std::string, std::string, std::string>;

std::map<RowKey, double> Keyed(const std::vector<FeatureRow>& rows) {
  std::map<RowKey, double> keyed;
  for (const auto& r : rows) keyed[{r.station_id, r.feature_name, r.window_len}] = r.value;
  return keyed;
}

struct StreamShape {
  std::uint64_t seed;
  int stations;
  int events;
  TimestampMicros span;  // Event time covered.
  double late_share;
  DurationMicros late_by;  // At most; the allowed lateness covers it.
  double duplicate_share;
};

void CheckParity(const StreamShape& shape, const std::vector<FeatureSpec>& features) {
  std::mt19937_64 random(shape.seed);
  auto warehouse = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(warehouse->Setup().ok());
  auto engine = StreamingFeatures::Create(features, kEvery, shape.late_by);
  ASSERT_TRUE(engine.ok()) << engine.status();

  std::map<TimestampMicros, std::map<RowKey, double>> streamed;  // Latest rows per tick.
  std::vector<Event> sent;
  std::set<std::string> stored;
  TimestampMicros clock = kStart;
  auto uniform = [&](double a, double b) {
    return std::uniform_real_distribution<double>(a, b)(random);
  };
  for (int i = 0; i < shape.events; ++i) {
    Event event;
    if (!sent.empty() && uniform(0, 1) < shape.duplicate_share) {
      event = sent[random() % sent.size()];  // A redelivery.
    } else {
      clock += TimestampMicros(uniform(0, 2.0 * shape.span / shape.events));
      // Exactly on a tick (and so on window edges) now and then.
      if (uniform(0, 1) < 0.05) clock = (clock + kEvery - 1) / kEvery * kEvery;
      event = Event{"e-" + std::to_string(i),
                    "S_" + std::to_string(int(std::pow(uniform(0, 1), 2) * shape.stations)), clock,
                    uniform(0, 1) < 0.5 ? Kind::kPickup : Kind::kDropoff,
                    uniform(0, 1) < 0.9 ? 1 : int(2 + random() % 5)};
      if (uniform(0, 1) < shape.late_share)
        event.ts -= TimestampMicros(uniform(0, double(shape.late_by)));
      sent.push_back(event);
    }
    Batch batch;
    batch.events = {event};
    ASSERT_TRUE(warehouse->Commit(batch).ok());
    if (stored.insert(event.event_id).second) engine->Add(event);  // Each event once.
    if (i % 50 == 0) {
      for (auto& tick : engine->TakeDueTicks()) streamed[tick.as_of] = Keyed(tick.rows);
    }
  }
  for (auto& tick : engine->TakeDueTicks()) streamed[tick.as_of] = Keyed(tick.rows);
  EXPECT_EQ(engine->too_late(), 0u);
  ASSERT_GT(streamed.size(), 3u);
  for (const auto& [as_of, rows] : streamed) {
    auto batch = warehouse->ComputeFeatures(features, as_of);
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_EQ(rows, Keyed(*batch)) << "tick " << FormatRfc3339(as_of);
  }
}

TEST(StreamingParity, DefaultFeaturesOnAnInOrderStream) {
  CheckParity({.seed = 1,
               .stations = 20,
               .events = 3000,
               .span = 6 * 60 * kMicrosPerMinute,
               .late_share = 0,
               .late_by = 0,
               .duplicate_share = 0},
              DefaultFeatures());
}

TEST(StreamingParity, DefaultFeaturesWithLateAndDuplicateEvents) {
  for (std::uint64_t seed = 2; seed < 6; ++seed) {
    CheckParity({.seed = seed,
                 .stations = 30,
                 .events = 4000,
                 .span = 30 * 60 * kMicrosPerMinute,
                 .late_share = 0.1,
                 .late_by = 45 * kMicrosPerMinute,
                 .duplicate_share = 0.05},
                DefaultFeatures());
  }
}

TEST(StreamingParity, SparseStationsStillGetRowsAtEveryTick) {
  CheckParity({.seed = 7,
               .stations = 200,
               .events = 600,
               .span = 48 * 60 * kMicrosPerMinute,
               .late_share = 0.05,
               .late_by = 20 * kMicrosPerMinute,
               .duplicate_share = 0.02},
              DefaultFeatures());
}

TEST(StreamingParity, EveryAggregateFromAFeatureFile) {
  auto features = ParseFeatureFile(R"(
[[feature]]
name = "sum_30m"
window = "30m"
aggregate = "sum"
[[feature]]
name = "min_drop_2h"
window = "2h"
aggregate = "min"
kind = "dropoff"
[[feature]]
name = "max_all"
window = "all_time"
aggregate = "max"
[[feature]]
name = "avg_45m"
window = "45m"
aggregate = "avg"
[[feature]]
name = "top_quarter_1h"
window = "1h"
aggregate = "top_share"
share = 0.25
)",
                                   "test.toml");
  ASSERT_TRUE(features.ok()) << features.status();
  CheckParity({.seed = 11,
               .stations = 25,
               .events = 3000,
               .span = 12 * 60 * kMicrosPerMinute,
               .late_share = 0.1,
               .late_by = 30 * kMicrosPerMinute,
               .duplicate_share = 0.05},
              *features);
}

TEST(StreamingFeatures, EventsOlderThanTheLatenessCountOnlyInOpenWindowsAndAreCounted) {
  auto engine = *StreamingFeatures::Create(DefaultFeatures(), kEvery, 10 * kMicrosPerMinute);
  engine.Add(Event{"a", "A", kStart + 5 * kMicrosPerMinute, Kind::kPickup, 1});
  engine.Add(Event{"b", "A", kStart + 61 * kMicrosPerMinute, Kind::kPickup, 1});
  auto ticks = engine.TakeDueTicks();
  ASSERT_EQ(ticks.size(), 4u);  // 00:15 … 01:00.
  engine.Add(Event{"c", "A", kStart + 20 * kMicrosPerMinute, Kind::kPickup, 1});  // 41 min behind.
  EXPECT_EQ(engine.too_late(), 1u);
  EXPECT_TRUE(engine.TakeDueTicks().empty());  // No rewrite of closed ticks.
  engine.Add(Event{"d", "A", kStart + 76 * kMicrosPerMinute, Kind::kDropoff, 1});
  auto next = engine.TakeDueTicks();
  ASSERT_EQ(next.size(), 1u);  // 01:15, which does count the late event.
  for (const auto& row : next[0].rows) {
    if (row.feature_name == "pickup_count") {
      EXPECT_EQ(row.value, 3);
    }
  }
}

}  // namespace
}  // namespace bikestream
