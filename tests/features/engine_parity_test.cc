// Features computed inside another engine equal SQLite's on the same events, for every
// aggregate, kind and window a feature file allows, and so do refreshes, stored rows, streaming
// ticks, training sets (latest, range, point in time) and what the streaming job rebuilds
// from. Runs in the binaries of the other engines (postgres_test, bigquery_test).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "features/feature_spec.h"
#include "support/warehouse_backends.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

const TimestampMicros kFirstDay = *ParseRfc3339("2025-10-30T00:00:00Z");

using EngineParityTest = testing_support::BackendTest;

// Every aggregate, kind and window the feature files allow.
std::vector<FeatureSpec> EveryKindOfFeature() {
  auto features = *ParseFeatureFile(R"(
[[feature]]
name = "dropoff_bikes_7d"
window = "7d"
aggregate = "sum"
kind = "dropoff"
[[feature]]
name = "max_delta_all_time"
window = "all_time"
aggregate = "max"
[[feature]]
name = "min_pickup_30m"
window = "30m"
aggregate = "min"
kind = "pickup"
[[feature]]
name = "avg_delta_3h"
window = "3h"
aggregate = "avg"
[[feature]]
name = "top_quarter_6h"
window = "6h"
aggregate = "top_share"
kind = "pickup"
share = 0.25
)",
                                    "every.toml");
  for (auto& f : DefaultFeatures()) features.push_back(f);
  return features;
}

std::vector<FeatureRow> Sorted(std::vector<FeatureRow> rows) {
  std::sort(rows.begin(), rows.end(), [](const FeatureRow& a, const FeatureRow& b) {
    return std::tie(a.station_id, a.feature_name, a.window_len) <
           std::tie(b.station_id, b.feature_name, b.window_len);
  });
  return rows;
}

std::vector<std::vector<std::string>> Texts(const QueryResult& result) {
  std::vector<std::vector<std::string>> texts = {result.columns};
  for (const auto& row : result.rows) {
    auto& line = texts.emplace_back();
    for (const auto& cell : row) line.push_back(cell.text);
  }
  return texts;
}

TEST_P(EngineParityTest, FeaturesAreIdenticalToSqlitesOnTheSameEvents) {
  Warehouse* engine = warehouse_.get();
  auto sqlite = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(sqlite->Setup().ok());
  std::mt19937_64 random(42);
  Batch batch;
  for (int i = 0; i < 20000; ++i) {
    // 30 stations, skewed; 4 days; deltas with ties; a few on the exact window edges.
    const int station = static_cast<int>(std::min<std::uint64_t>(random() % 30, random() % 30));
    TimestampMicros ts = kFirstDay + static_cast<TimestampMicros>(random() % (96 * kMicrosPerHour));
    if (i % 500 == 0) ts = kFirstDay + 48 * kMicrosPerHour - 2 * kMicrosPerHour;
    batch.events.push_back(Event{fmt::format("e-{}", i), fmt::format("S_{}", station), ts,
                                 random() % 2 ? Kind::kPickup : Kind::kDropoff,
                                 static_cast<std::int32_t>(1 + random() % 7)});
  }
  ASSERT_TRUE(engine->Commit(batch).ok());
  ASSERT_TRUE(sqlite->Commit(batch).ok());
  const auto features = EveryKindOfFeature();
  for (int hours : {0, 1, 30, 48, 60, 95, 120}) {
    const TimestampMicros as_of = kFirstDay + hours * kMicrosPerHour;
    auto expected = sqlite->ComputeFeatures(features, as_of);
    auto actual = engine->ComputeFeatures(features, as_of);
    ASSERT_TRUE(expected.ok() && actual.ok()) << actual.status();
    EXPECT_EQ(Sorted(*actual), Sorted(*expected)) << "at +" << hours << "h";
    ASSERT_TRUE(engine->RefreshFeatures(features, as_of).ok());
    ASSERT_TRUE(sqlite->RefreshFeatures(features, as_of).ok());
    EXPECT_EQ(*engine->StoredFeatures(as_of), *sqlite->StoredFeatures(as_of))
        << "at +" << hours << "h";
  }
  std::vector<std::string> names;
  for (const auto& f : features) names.push_back(f.name);
  const TrainingSetRequest range{.features = names,
                                 .range = std::pair{kFirstDay, kFirstDay + 60 * kMicrosPerHour}};
  EXPECT_EQ(Texts(*engine->TrainingSet(range)), Texts(*sqlite->TrainingSet(range)));
  TrainingSetRequest labeled{.features = names};
  labeled.labels =
      TrainingSetRequest::Labels{.columns = {"demand"},
                                 .rows = {{"S_1", kFirstDay + 50 * kMicrosPerHour, {"7"}},
                                          {"S_2", kFirstDay - kMicrosPerHour, {"0"}},
                                          {"S_99", kFirstDay + 61 * kMicrosPerHour, {}}}};
  EXPECT_EQ(Texts(*engine->TrainingSet(labeled)), Texts(*sqlite->TrainingSet(labeled)));

  // What the streaming features rebuild from.
  EXPECT_EQ(*engine->LatestEventTime(), *sqlite->LatestEventTime());
  auto totals = [](Warehouse& w) {
    auto t = *w.EventTotals(kFirstDay + 50 * kMicrosPerHour);
    std::vector<std::tuple<std::string, Kind, std::int64_t, std::int64_t, std::int32_t,
                           std::int32_t, TimestampMicros>>
        rows;
    for (const auto& s : t)
      rows.emplace_back(s.station_id, s.kind, s.totals.count, s.totals.sum, s.totals.min,
                        s.totals.max, s.first_ts);
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  EXPECT_EQ(totals(*engine), totals(*sqlite));
  auto scan = [](Warehouse& w) {
    std::vector<std::pair<TimestampMicros, std::string>> events;
    EXPECT_TRUE(w.ScanEvents(kFirstDay + 90 * kMicrosPerHour, [&](const Event& e) {
                   events.emplace_back(e.ts, e.event_id);
                 }).ok());
    std::sort(events.begin(), events.end());  // The order among equal ts is the engine's.
    return events;
  };
  const auto scanned = scan(*engine);
  EXPECT_FALSE(scanned.empty());
  EXPECT_EQ(scanned, scan(*sqlite));
}

// Ticks as the streaming job writes them (a rewrite replaces a tick's rows), and an entity file
// longer than one BigQuery request takes.
TEST_P(EngineParityTest, TicksAndLongEntityFilesAreIdenticalToSqlites) {
  Warehouse* engine = warehouse_.get();
  auto sqlite = std::move(*OpenWarehouse("sqlite::memory:"));
  ASSERT_TRUE(sqlite->Setup().ok());
  const std::vector<std::string> names = {"pickups_2h", "avg_delta_24h"};
  std::vector<FeatureTick> ticks;
  for (int t = 0; t < 3; ++t) {
    FeatureTick& tick = ticks.emplace_back();
    tick.as_of = kFirstDay + t * 15 * kMicrosPerMinute;
    for (int station = 0; station < 40; ++station) {
      const std::string id = fmt::format("S_{}", station);
      tick.rows.push_back({id, "pickups_2h", "2h", double(station * t), tick.as_of});
      tick.rows.push_back({id, "avg_delta_24h", "24h", (station + 1) / 3.0 + t, tick.as_of});
    }
  }
  for (Warehouse* w : {engine, sqlite.get()}) {
    ASSERT_TRUE(w->WriteFeatureTicks(names, ticks).ok());
    // The second tick again, with fewer stations: its rows are replaced, the others kept.
    FeatureTick again = ticks[1];
    again.rows.resize(10);
    ASSERT_TRUE(w->WriteFeatureTicks(names, {again}).ok());
  }
  for (const FeatureTick& tick : ticks) {
    auto stored = engine->StoredFeatures(tick.as_of);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(*stored, *sqlite->StoredFeatures(tick.as_of));
  }
  EXPECT_EQ(engine->StoredFeatures(ticks[1].as_of)->size(), 10u);

  TrainingSetRequest labeled{.features = names};
  labeled.labels = TrainingSetRequest::Labels{.columns = {"demand", "weather"}};
  for (int r = 0; r < 25'000; ++r) {
    labeled.labels->rows.push_back({fmt::format("S_{}", r % 45),
                                    kFirstDay + (r % 50) * kMicrosPerMinute,
                                    {std::to_string(r), r % 7 ? "dry" : "wet"}});
  }
  auto expected = sqlite->TrainingSet(labeled);
  auto actual = engine->TrainingSet(labeled);
  ASSERT_TRUE(expected.ok() && actual.ok()) << actual.status();
  ASSERT_EQ(actual->rows.size(), 25'000u);
  EXPECT_EQ(Texts(*actual), Texts(*expected));
}

INSTANTIATE_TEST_SUITE_P(, EngineParityTest,
                         ::testing::ValuesIn(testing_support::BackendsUnderTest()),
                         testing_support::BackendName);

}  // namespace
}  // namespace bikestream
