#include "simulator/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "event/event.h"
#include "event/timestamp.h"

namespace bikestream {
namespace {

constexpr TimestampMicros kStart = 1760745600LL * kMicrosPerSecond;  // 2025-10-18T00:00:00Z

SimulatorOptions Stream(std::uint64_t seed, std::string run_id) {
  return SimulatorOptions{.mode = SimulationMode::kStream,
                          .stations = 100,
                          .seed = seed,
                          .run_id = std::move(run_id),
                          .start = kStart};
}

std::vector<std::string> Take(Simulator& simulator, int n) {
  std::vector<std::string> payloads;
  for (int i = 0; i < n; ++i) payloads.push_back(simulator.Next().payload);
  return payloads;
}

TEST(Simulator, SameSeedAndRunIdGiveTheSameStream) {
  Simulator a(Stream(7, "run1")), b(Stream(7, "run1"));
  EXPECT_EQ(Take(a, 2000), Take(b, 2000));
}

TEST(Simulator, SameSeedDiffersOnlyInTheRunIdPart) {
  Simulator a(Stream(7, "aaaa")), b(Stream(7, "bbbb"));
  auto first = Take(a, 500), second = Take(b, 500);
  for (std::size_t i = 0; i < first.size(); ++i) {
    std::string normalized = second[i];
    normalized.replace(normalized.find("e-bbbb-"), 7, "e-aaaa-");
    EXPECT_EQ(first[i], normalized);
  }
}

TEST(Simulator, DifferentSeedsGiveDifferentStreams) {
  Simulator a(Stream(1, "x")), b(Stream(2, "x"));
  EXPECT_NE(Take(a, 100), Take(b, 100));
}

TEST(Simulator, EventIdsAreUniqueAcrossRuns) {
  std::set<std::string> ids;
  EventParser parser;
  for (int run = 0; run < 3; ++run) {
    // The CLI gives each run a random id; two runs of the same seed must not collide.
    Simulator simulator(Stream(42, RandomRunId()));
    for (const auto& payload : Take(simulator, 5000)) {
      auto event = std::get<Event>(parser.Parse(payload));
      EXPECT_TRUE(event.event_id.starts_with("e-"));
      EXPECT_TRUE(ids.insert(event.event_id).second) << "duplicate id " << event.event_id;
    }
  }
  EXPECT_EQ(ids.size(), 15000u);
}

TEST(Simulator, FaultRatesAreAsAskedAndEveryMessageIsWhatItClaims) {
  auto options = Stream(3, "faults");
  options.duplicate_rate = 0.05;
  options.invalid_rate = 0.05;
  Simulator simulator(options);
  EventParser parser;
  std::set<std::string> valid_ids;
  std::set<std::string> reasons;
  constexpr int kMessages = 100'000;
  for (int i = 0; i < kMessages; ++i) {
    SimulatedMessage message = simulator.Next();
    ParseResult result = parser.Parse(message.payload);
    switch (message.kind) {
      case MessageKind::kValid:
        ASSERT_TRUE(std::holds_alternative<Event>(result)) << message.payload;
        EXPECT_TRUE(valid_ids.insert(std::get<Event>(result).event_id).second);
        break;
      case MessageKind::kDuplicate:
        ASSERT_TRUE(std::holds_alternative<Event>(result)) << message.payload;
        EXPECT_TRUE(valid_ids.contains(std::get<Event>(result).event_id));
        break;
      case MessageKind::kInvalid:
        ASSERT_TRUE(std::holds_alternative<Rejection>(result)) << message.payload;
        reasons.insert(std::string(ReasonCode(std::get<Rejection>(result).reason)));
        break;
    }
  }
  const SimulatorStats& stats = simulator.stats();
  EXPECT_EQ(stats.messages, std::uint64_t(kMessages));
  EXPECT_EQ(stats.valid + stats.duplicates + stats.invalid, stats.messages);
  EXPECT_EQ(stats.valid, valid_ids.size());
  EXPECT_NEAR(double(stats.duplicates) / kMessages, 0.05, 0.005);
  EXPECT_NEAR(double(stats.invalid) / kMessages, 0.05, 0.005);
  // Every kind of bad input appears.
  for (const char* code :
       {"bad_json", "not_object", "missing_field", "wrong_type", "bad_event_id", "bad_station_id",
        "bad_timestamp", "bad_kind", "bad_delta", "too_long"}) {
    EXPECT_TRUE(reasons.contains(code)) << code;
  }
}

TEST(Simulator, SomeStationsAreFarBusierThanOthers) {
  Simulator simulator(Stream(5, "skew"));
  EventParser parser;
  std::map<std::string, int> per_station;
  for (const auto& payload : Take(simulator, 100'000)) {
    ++per_station[std::get<Event>(parser.Parse(payload)).station_id];
  }
  std::vector<int> counts;
  for (auto& [station, n] : per_station) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  ASSERT_GE(counts.size(), 90u);
  // Zipf: the busiest station sees many times the median one.
  EXPECT_GT(counts.front(), 10 * counts[counts.size() / 2]);
  EXPECT_EQ(per_station.begin()->first, "A_101");
}

TEST(Simulator, EventTimeHasMorningAndEveningPeaks) {
  auto options = Stream(9, "diurnal");
  options.rate = 1;               // One event per 3600 event-seconds of mean spacing...
  options.speedup = 3600 / 50.0;  // ...scaled to ~50 events an hour on average.
  Simulator simulator(options);
  EventParser parser;
  std::array<int, 24> per_hour{};
  TimestampMicros previous = kStart;
  for (const auto& payload : Take(simulator, 50 * 24 * 20)) {  // About twenty days.
    auto event = std::get<Event>(parser.Parse(payload));
    EXPECT_GE(event.ts, previous);  // No late events asked for: time never goes back.
    previous = event.ts;
    ++per_hour[(event.ts / kMicrosPerSecond / 3600) % 24];
  }
  EXPECT_GT(per_hour[8], 3 * per_hour[3]);   // Morning peak over the night.
  EXPECT_GT(per_hour[17], 3 * per_hour[3]);  // Evening peak over the night.
  EXPECT_GT(per_hour[8], per_hour[12]);      // Peaks stand out of the day too.
}

TEST(Simulator, DeltaIsMostlyOneWithOccasionalGroups) {
  Simulator simulator(Stream(11, "delta"));
  EventParser parser;
  int ones = 0, groups = 0;
  for (const auto& payload : Take(simulator, 20'000)) {
    int delta = std::get<Event>(parser.Parse(payload)).delta;
    ASSERT_GE(delta, 1);
    ASSERT_LE(delta, 1000);
    (delta == 1 ? ones : groups)++;
  }
  EXPECT_NEAR(double(ones) / 20'000, 0.9, 0.02);
  EXPECT_GT(groups, 0);
}

TEST(Simulator, LateEventsAreLateByAtMostTheBound) {
  auto options = Stream(13, "late");
  options.late_rate = 0.2;
  options.late_by = 600 * kMicrosPerSecond;
  Simulator simulator(options);
  EventParser parser;
  TimestampMicros high_water = 0;
  int late = 0;
  for (const auto& payload : Take(simulator, 10'000)) {
    auto event = std::get<Event>(parser.Parse(payload));
    if (event.ts < high_water) {
      ++late;
      EXPECT_GE(event.ts, high_water - options.late_by - kMicrosPerSecond);
    }
    high_water = std::max(high_water, event.ts);
  }
  EXPECT_NEAR(double(simulator.stats().late) / 10'000, 0.2, 0.02);
  EXPECT_GT(late, 1000);
}

TEST(Simulator, SparseModeIsTheOriginalScript) {
  Simulator simulator(SimulatorOptions{.seed = 1, .run_id = "s", .start = kStart});
  EventParser parser;
  std::set<std::string> stations;
  double previous_due = 0;
  for (int i = 0; i < 300; ++i) {
    SimulatedMessage message = simulator.Next();
    auto event = std::get<Event>(parser.Parse(message.payload));
    stations.insert(event.station_id);
    EXPECT_EQ(event.delta, 1);
    const double gap = message.due_seconds - previous_due;
    EXPECT_GE(gap, 0.99);
    EXPECT_LE(gap, 3.01);
    previous_due = message.due_seconds;
  }
  EXPECT_EQ(stations, (std::set<std::string>{"A_101", "A_205", "A_310"}));
}

TEST(Simulator, StreamIsPacedAtTheRate) {
  auto options = Stream(1, "paced");
  options.rate = 200;
  Simulator simulator(options);
  SimulatedMessage last;
  for (int i = 0; i < 1000; ++i) last = simulator.Next();
  EXPECT_NEAR(last.due_seconds, 999 / 200.0, 1e-9);
}

TEST(SimulatorOptions, RejectsOutOfRangeFlagsByName) {
  auto options = Stream(1, "x");
  options.invalid_rate = 1.5;
  auto status = ValidateSimulatorOptions(options);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("--invalid-rate"), std::string::npos);
  options = Stream(1, "bad id!");
  EXPECT_FALSE(ValidateSimulatorOptions(options).ok());
}

TEST(SimulatorOptions, RefusesRatesAndStartsThatWouldLeaveTheTimestampRange) {
  auto refused = [](SimulatorOptions options, const std::string& flag) {
    auto status = ValidateSimulatorOptions(options);
    EXPECT_FALSE(status.ok()) << flag;
    EXPECT_NE(status.message().find(flag), std::string::npos) << status;
  };
  auto options = Stream(1, "x");
  options.rate = 1e-300;
  refused(options, "--rate");
  options.rate = std::nan("");
  refused(options, "--rate");
  options = Stream(1, "x");
  options.start = kMinTimestamp;  // Its late events would be in year 0.
  refused(options, "--start");
  options.start = kMaxTimestamp + 1;
  refused(options, "--start");
  options.start = kMinTimestamp + options.late_by;
  EXPECT_TRUE(ValidateSimulatorOptions(options).ok());
}

// Every payload of a valid configuration is an event the parser accepts: none is outside the
// timestamp range, however extreme the configuration.
TEST(Simulator, EventTimeNeverLeavesTheTimestampRange) {
  auto at_the_end = Stream(3, "end");
  at_the_end.start = kMaxTimestamp - kMicrosPerSecond;
  at_the_end.rate = kMinSimulatedRate;
  at_the_end.speedup = 1e9;  // Gaps of about 1e12 s of event time.
  auto at_the_start = Stream(4, "start");
  at_the_start.start = kMinTimestamp + at_the_start.late_by;
  at_the_start.late_rate = 1;
  for (const SimulatorOptions& options : {at_the_end, at_the_start}) {
    ASSERT_TRUE(ValidateSimulatorOptions(options).ok());
    Simulator simulator(options);
    EventParser parser;
    for (const std::string& payload : Take(simulator, 200)) {
      ParseResult result = parser.Parse(payload);
      const auto* event = std::get_if<Event>(&result);
      ASSERT_NE(event, nullptr) << payload;
      EXPECT_TRUE(InTimestampRange(event->ts)) << payload;
    }
  }
}

}  // namespace
}  // namespace bikestream
