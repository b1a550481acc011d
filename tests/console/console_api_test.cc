// The console's JSON API on every engine a test binary is built for (SQLite in console_test,
// PostgreSQL in postgres_test, the BigQuery stand-in in bigquery_test): with known data in the
// warehouse, each answer holds exactly what was stored.
#include "console/console_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "event/timestamp.h"
#include "support/fake_clock.h"
#include "support/warehouse_backends.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using json = nlohmann::json;

constexpr TimestampMicros kMonday = 1'728'259'200'000'000;  // 2024-10-07T00:00:00Z.
constexpr TimestampMicros kMinute = kMicrosPerMinute;
constexpr DurationMicros kDay = 24 * kMicrosPerHour;

Event MakeEvent(std::string id, std::string station, TimestampMicros ts, Kind kind,
                std::int32_t delta = 1) {
  return Event{std::move(id), std::move(station), ts, kind, delta};
}

class ConsoleApiTest : public testing_support::BackendTest {
 protected:
  json Get(std::string_view path, ApiParams params = {}, int status = 200) {
    const ApiReply reply = api().Get(path, params);
    EXPECT_EQ(reply.status, status) << reply.body;
    return json::parse(reply.body);
  }

  ConsoleApi& api() {
    if (!api_)
      api_ = std::make_unique<ConsoleApi>(ConsoleWarehouse(*warehouse_), "test-warehouse",
                                          DefaultFeatures());
    return *api_;
  }

  void Commit(std::vector<Event> events, std::vector<DeadLetter> dead_letters = {}) {
    Batch batch;
    batch.events = std::move(events);
    batch.dead_letters = std::move(dead_letters);
    auto result = warehouse_->Commit(batch);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  std::unique_ptr<ConsoleApi> api_;
};

TEST_P(ConsoleApiTest, AStationsActivityHasEveryBucketOfThePeriodWithWhatWasStored) {
  Commit({MakeEvent("a1", "A", kMonday + kMinute, Kind::kPickup, 2),
          MakeEvent("a2", "A", kMonday + 14 * kMinute, Kind::kDropoff, 1),
          MakeEvent("a3", "A", kMonday + 45 * kMinute, Kind::kPickup, 1),
          MakeEvent("b1", "B", kMonday + 2 * kMinute, Kind::kPickup, 1)});
  Commit(
      {MakeEvent("a1", "A", kMonday + kMinute, Kind::kPickup, 2)});  // A redelivery adds nothing.
  const json body =
      Get("activity",
          {{"station", "A"}, {"from", "2024-10-07T00:00:00Z"}, {"to", "2024-10-07T01:00:00Z"}});
  EXPECT_EQ(body["station_id"], "A");
  EXPECT_EQ(body["bucket_seconds"], 900);
  ASSERT_EQ(body["buckets"].size(), 4u);  // Empty buckets too: one point per 15 minutes.
  const json& b = body["buckets"];
  EXPECT_EQ(b[0]["t"], kMonday / kMicrosPerSecond);
  EXPECT_EQ(b[0]["pickups"], 1);
  EXPECT_EQ(b[0]["pickup_bikes"], 2);
  EXPECT_EQ(b[0]["dropoffs"], 1);
  EXPECT_EQ(b[1]["pickups"], 0);
  EXPECT_EQ(b[2]["pickups"], 0);
  EXPECT_EQ(b[3]["t"], (kMonday + 45 * kMinute) / kMicrosPerSecond);
  EXPECT_EQ(b[3]["pickups"], 1);
  // Unaligned bounds: the buckets that start in [from, to), as the warehouse counts them.
  const json unaligned = Get("activity", {{"station", "A"},
                                          {"from", "2024-10-07T00:00:01Z"},
                                          {"to", "2024-10-07T00:45:00Z"}})["buckets"];
  ASSERT_EQ(unaligned.size(), 2u);
  EXPECT_EQ(unaligned[0]["t"], (kMonday + 15 * kMinute) / kMicrosPerSecond);
  EXPECT_EQ(unaligned[1]["pickups"], 0);
}

TEST_P(ConsoleApiTest, ByDefaultThePeriodIsTheWeekUpToTheLatestEvent) {
  Commit({MakeEvent("old", "A", kMonday - 8 * kDay, Kind::kPickup),
          MakeEvent("new", "A", kMonday + 10 * kMinute, Kind::kDropoff)});
  const json body = Get("activity", {{"station", "A"}});
  EXPECT_EQ(body["to"], "2024-10-07T00:15:00Z");  // The end of the latest event's bucket.
  EXPECT_EQ(body["from"], "2024-09-30T00:15:00Z");
  ASSERT_EQ(body["buckets"].size(), 7u * 96);
  int events = 0;
  for (const json& bucket : body["buckets"])
    events += bucket["pickups"].get<int>() + bucket["dropoffs"].get<int>();
  EXPECT_EQ(events, 1);  // The one older than a week is left out.
}

TEST_P(ConsoleApiTest, BadParametersSayWhatToFix) {
  EXPECT_NE(Get("activity", {}, 400)["error"].get<std::string>().find("?station="),
            std::string::npos);
  EXPECT_NE(Get("activity", {{"station", "A"}, {"from", "yesterday"}}, 400)["error"]
                .get<std::string>()
                .find("from=yesterday"),
            std::string::npos);
  EXPECT_NE(
      Get("activity",
          {{"station", "A"}, {"from", "2024-10-07T00:00:00Z"}, {"to", "2024-10-01T00:00:00Z"}},
          400)["error"]
          .get<std::string>()
          .find("before"),
      std::string::npos);
  EXPECT_NE(
      Get("activity",
          {{"station", "A"}, {"from", "2024-01-01T00:00:00Z"}, {"to", "2024-10-01T00:00:00Z"}},
          400)["error"]
          .get<std::string>()
          .find("31 days"),
      std::string::npos);
  EXPECT_NE(Get("busiest", {{"limit", "0"}}, 400)["error"].get<std::string>().find("1 to 1000"),
            std::string::npos);
  EXPECT_NE(Get("dead-letters", {{"reason", "nonsense"}}, 400)["error"].get<std::string>().find(
                "reason code"),
            std::string::npos);
  EXPECT_NE(Get("nowhere", {}, 404)["error"].get<std::string>().find("docs/console.md"),
            std::string::npos);
  EXPECT_EQ(api().Post("summary", {}).status, 404);
}

TEST_P(ConsoleApiTest, TheBusiestStationsOfAPeriodMostFirst) {
  Commit({MakeEvent("a1", "A", kMonday, Kind::kPickup),
          MakeEvent("b1", "B", kMonday, Kind::kPickup),
          MakeEvent("b2", "B", kMonday + kMinute, Kind::kDropoff, 3),
          MakeEvent("c1", "C", kMonday, Kind::kPickup)});
  const json body =
      Get("busiest",
          {{"from", "2024-10-07T00:00:00Z"}, {"to", "2024-10-08T00:00:00Z"}, {"limit", "2"}});
  ASSERT_EQ(body["stations"].size(), 2u);
  EXPECT_EQ(body["stations"][0]["station_id"], "B");
  EXPECT_EQ(body["stations"][0]["events"], 2);
  EXPECT_EQ(body["stations"][0]["dropoff_bikes"], 3);
  EXPECT_EQ(body["stations"][1]["station_id"], "A");  // Ties by id.
}

TEST_P(ConsoleApiTest, StationsAreThoseDescribedWithFeaturesOrActiveEachWithItsLatestFeatures) {
  ASSERT_TRUE(warehouse_->UpsertStations({Station{"A", "Alpha", 59.9, 10.7, 12, kMonday}}).ok());
  Commit({MakeEvent("b1", "B", kMonday, Kind::kPickup)});
  const TimestampMicros as_of = kMonday + 15 * kMinute;
  ASSERT_TRUE(warehouse_->RefreshFeatures(DefaultFeatures(), as_of).ok());
  const json body = Get("stations");
  EXPECT_EQ(body["features_as_of"], "2024-10-07T00:15:00Z");
  ASSERT_EQ(body["stations"].size(), 2u);
  const json& alpha = body["stations"][0];
  EXPECT_EQ(alpha["station_id"], "A");
  EXPECT_EQ(alpha["name"], "Alpha");
  EXPECT_DOUBLE_EQ(alpha["lat"].get<double>(), 59.9);
  EXPECT_EQ(alpha["capacity"], 12);
  EXPECT_EQ(alpha["events_in_week"], 0);
  const json& b = body["stations"][1];
  EXPECT_EQ(b["station_id"], "B");
  EXPECT_EQ(b["events_in_week"], 1);
  EXPECT_FALSE(b.contains("name"));  // Not in the stations table.
  EXPECT_EQ(b["features"]["pickup_count_2h"], 1.0);
  EXPECT_EQ(b["features"]["dropoff_count_2h"], 0.0);
}

TEST_P(ConsoleApiTest, AStationsFeaturesAreOneSeriesPerColumnAlignedWithTheTicks) {
  const TimestampMicros tick = 15 * kMinute;
  std::vector<FeatureTick> ticks = {
      {kMonday + tick,
       {{"A", "pickup_count", "2h", 1, kMonday + tick},
        {"A", "dropoff_count", "2h", 4, kMonday + tick}}},
      {kMonday + 2 * tick, {{"A", "pickup_count", "2h", 2, kMonday + 2 * tick}}},
      {kMonday + 3 * tick, {{"B", "pickup_count", "2h", 9, kMonday + 3 * tick}}}};
  ASSERT_TRUE(warehouse_->WriteFeatureTicks({"pickup_count", "dropoff_count"}, ticks).ok());
  const json body = Get("features", {{"station", "A"}});
  EXPECT_EQ(body["to"], "2024-10-07T00:45:00Z");  // The latest tick stored.
  EXPECT_EQ(body["as_of"], json::array({(kMonday + tick) / kMicrosPerSecond,
                                        (kMonday + 2 * tick) / kMicrosPerSecond}));
  EXPECT_EQ(body["series"]["pickup_count_2h"], json::array({1.0, 2.0}));
  EXPECT_EQ(body["series"]["dropoff_count_2h"], json::array({4.0, nullptr}));
  EXPECT_EQ(Get("summary")["feature_set"].size(), DefaultFeatures().size());
}

TEST_P(ConsoleApiTest, DeadLettersByReasonWithSamplesAndAReplayThatMovesTheFixedOnes) {
  auto letter = [](std::string id, std::string reason, std::string payload) {
    return DeadLetter{.first_seen = kMonday + 30 * kMicrosPerSecond,
                      .source = "test",
                      .message_id = std::move(id),
                      .payload = std::move(payload),
                      .reason = std::move(reason),
                      .error = "bad"};
  };
  Commit(
      {},
      {letter("1", "bad_json", "{oops \xff\xfe"),  // Not UTF-8: shown, not refused.
       letter("4", "too_long", std::string(5000, 'x')),
       letter(
           "2", "bad_kind",
           R"({"event_id":"fixed","station_id":"A","ts_iso":"2024-10-07T00:00:00Z","kind":"pickup","delta":1})"),
       letter("3", "bad_kind",
              R"({"event_id":"x","station_id":"A","ts_iso":"2024-10-07T00:00:00Z","kind":"no"})")});
  const ApiParams monday = {{"from", "2024-10-07T00:00:00Z"}, {"to", "2024-10-08T00:00:00Z"}};
  json body = Get("dead-letters", monday);
  EXPECT_EQ(body["by_reason"], json({{"bad_json", 1}, {"bad_kind", 2}, {"too_long", 1}}));
  ASSERT_EQ(body["counts"].size(), 3u);
  EXPECT_EQ(body["counts"][0]["t"], kMonday / kMicrosPerSecond);
  ASSERT_EQ(body["samples"].size(), 4u);
  EXPECT_EQ(body["samples"][0]["payload"], "{oops \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(body["samples"][1]["payload"].get<std::string>().size(), 4096u);  // Cut, and said so.
  EXPECT_EQ(body["samples"][1]["payload_truncated"], true);
  EXPECT_EQ(body["samples"][0]["payload_truncated"], false);
  // By default the day up to now: these are from 2024, so none is counted, but all are samples.
  body = Get("dead-letters");
  EXPECT_TRUE(body["counts"].empty());
  EXPECT_EQ(body["samples"].size(), 4u);
  EXPECT_NE(Get("dead-letters",
                {{"bucket", "1"}, {"from", "2024-10-01T00:00:00Z"}, {"to", "2024-10-08T00:00:00Z"}},
                400)["error"]
                .get<std::string>()
                .find("larger ?bucket="),
            std::string::npos);
  EXPECT_EQ(Get("dead-letters", {{"reason", "bad_kind"}, {"limit", "1"}})["samples"].size(), 1u);

  const ApiReply replay = api().Post("dead-letters/replay", {{"reason", "bad_kind"}});
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(json::parse(replay.body),
            json({{"examined", 2}, {"stored", 1}, {"duplicates", 0}, {"still_invalid", 1}}));
  body = Get("dead-letters", monday);
  EXPECT_EQ(body["by_reason"], json({{"bad_json", 1}, {"bad_kind", 1}, {"too_long", 1}}));
  EXPECT_EQ(Get("summary")["latest_event"], "2024-10-07T00:00:00Z");
}

TEST_P(ConsoleApiTest, AnEmptyWarehouseAnswersEverywhere) {
  const json summary = Get("summary");
  EXPECT_TRUE(summary["latest_event"].is_null());
  EXPECT_EQ(summary["warehouse"], "test-warehouse");
  EXPECT_TRUE(Get("stations")["stations"].empty());
  EXPECT_EQ(Get("activity", {{"station", "A"}})["buckets"].size(), 7u * 96);
  EXPECT_TRUE(Get("busiest")["stations"].empty());
  EXPECT_TRUE(Get("features", {{"station", "A"}})["as_of"].empty());
  EXPECT_TRUE(Get("dead-letters")["samples"].empty());
}

// Without bounds, the period is the day up to now, or the bucket now is in: never one wholly in
// the future (a bucket of 3 to 7 days once chose one).
TEST_P(ConsoleApiTest, TheDefaultPeriodOfDeadLettersHoldsNowForEveryBucket) {
  testing_support::FakeClock clock(kMonday + 5 * kDay + 7 * 3600 * kMicrosPerSecond);
  ConsoleApi api(ConsoleWarehouse(*warehouse_), "test-warehouse", DefaultFeatures(), &clock);
  for (const int bucket : {60, 900, 3600, 86'400, 2 * 86'400, 3 * 86'400, 5 * 86'400, 7 * 86'400}) {
    const ApiReply reply = api.Get("dead-letters", {{"bucket", std::to_string(bucket)}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    const json body = json::parse(reply.body);
    const TimestampMicros from = *ParseRfc3339(body["from"].get<std::string>());
    const TimestampMicros to = *ParseRfc3339(body["to"].get<std::string>());
    EXPECT_LE(from, clock.Now()) << bucket;
    EXPECT_GT(to, clock.Now()) << bucket;
    EXPECT_GE(to - from, std::min<TimestampMicros>(kDay, bucket * kMicrosPerSecond)) << bucket;
  }
}

INSTANTIATE_TEST_SUITE_P(, ConsoleApiTest,
                         ::testing::ValuesIn(testing_support::BackendsUnderTest()),
                         testing_support::BackendName);

}  // namespace
}  // namespace bikestream
