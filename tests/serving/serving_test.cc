// The serving endpoint: its answers (values with their as_of, age and staleness; unknown
// stations and features named; limits), the latest tick held in memory and refreshed from a
// SQLite warehouse, and the HTTP server with its access rules, /healthz and /metrics.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "features/feature_spec.h"
#include "serving/feature_server.h"
#include "serving/latest_features.h"
#include "serving/serving_api.h"
#include "support/fake_clock.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using json = nlohmann::json;
using testing_support::FakeClock;

constexpr TimestampMicros kTick = 1'763'251'200'000'000;  // 2025-11-16T00:00:00Z.

QueryResult::Cell Number(std::string text) { return {std::move(text), false, true}; }

LatestTick TwoStations() {
  LatestTick tick{.as_of = kTick,
                  .as_of_text = "2025-11-16T00:00:00Z",
                  .features = {"pickup_count", "avg_delta_pickup"}};
  tick.stations["A"] = {Number("3"), Number("1.5")};
  tick.stations["B"] = {Number("0"), QueryResult::Cell{"", true, false}};
  return tick;
}

json Answer(const FeatureRequest& request, const ServingRules& rules, TimestampMicros now,
            int expected_status = 200) {
  const LatestTick tick = TwoStations();
  const ServingReply reply = AnswerFeatures(request, &tick, rules, now);
  EXPECT_EQ(reply.status, expected_status) << reply.body;
  return json::parse(reply.body);
}

TEST(ServingApi, EachValueCarriesItsAsOfAgeAndWhetherItIsPastTheTtl) {
  const ServingRules rules{.ttl = 10 * kMicrosPerMinute};
  json fresh = Answer({{"A", "B"}, {}}, rules, kTick + 5 * kMicrosPerMinute);
  ASSERT_EQ(fresh["stations"].size(), 2u);
  const json& a = fresh["stations"][0];
  EXPECT_EQ(a["station_id"], "A");
  EXPECT_EQ(a["features"]["pickup_count"]["value"], 3);  // A number, as training-set writes it.
  EXPECT_EQ(a["features"]["avg_delta_pickup"]["value"], 1.5);
  EXPECT_EQ(a["features"]["pickup_count"]["as_of"], "2025-11-16T00:00:00Z");
  EXPECT_EQ(a["features"]["pickup_count"]["age_seconds"], 300.0);
  EXPECT_EQ(a["features"]["pickup_count"]["stale"], false);
  EXPECT_TRUE(fresh["stations"][1]["features"]["avg_delta_pickup"]["value"].is_null());
  EXPECT_EQ(fresh["ttl_seconds"], 600);

  json stale = Answer({{"A"}, {}}, rules, kTick + 11 * kMicrosPerMinute);
  EXPECT_EQ(stale["stations"][0]["features"]["pickup_count"]["value"], 3);
  EXPECT_EQ(stale["stations"][0]["features"]["pickup_count"]["stale"], true);

  json absent = Answer({{"A"}, {}}, {.ttl = 10 * kMicrosPerMinute, .past_ttl = PastTtl::kAbsent},
                       kTick + 11 * kMicrosPerMinute);
  EXPECT_TRUE(absent["stations"][0]["features"]["pickup_count"]["value"].is_null());
  EXPECT_EQ(absent["stations"][0]["features"]["pickup_count"]["stale"], true);

  json forever = Answer({{"A"}, {}}, {}, kTick + 100 * kMicrosPerHour);
  EXPECT_EQ(forever["stations"][0]["features"]["pickup_count"]["stale"], false);
  EXPECT_TRUE(forever["ttl_seconds"].is_null());
}

TEST(ServingApi, UnknownStationsAndFeaturesAreNamedNotAnError) {
  json answer =
      Answer({{"A", "nowhere", "A"}, {"avg_delta_pickup", "no_such", "no_such"}}, {}, kTick);
  ASSERT_EQ(answer["stations"].size(), 1u);  // "A" asked twice, answered once.
  EXPECT_EQ(answer["stations"][0]["features"].size(), 1u);
  EXPECT_TRUE(answer["stations"][0]["features"].contains("avg_delta_pickup"));
  EXPECT_EQ(answer["unknown_stations"], json::array({"nowhere"}));
  EXPECT_EQ(answer["unknown_features"], json::array({"no_such"}));
}

TEST(ServingApi, ARequestToFixOrNothingToServeSaysWhy) {
  EXPECT_NE(Answer({{}, {}}, {}, kTick, 400)["error"].get<std::string>().find("station_id="),
            std::string::npos);
  EXPECT_NE(Answer({{"A", "B", "C"}, {}}, {.max_stations = 2}, kTick, 400)["error"]
                .get<std::string>()
                .find("at most 2 stations"),
            std::string::npos);
  const ServingReply none = AnswerFeatures({{"A"}, {}}, nullptr, {}, kTick);
  EXPECT_EQ(none.status, 503);
  EXPECT_NE(none.body.find("bikestream features"), std::string::npos) << none.body;
}

TEST(ServingApi, ANumberJsonCannotCarryIsNull) {
  LatestTick tick = TwoStations();
  tick.stations["A"] = {Number("nan"), Number("-Infinity")};
  const ServingReply reply = AnswerFeatures({{"A"}, {}}, &tick, {}, kTick);
  ASSERT_EQ(reply.status, 200);
  const json answer = json::parse(reply.body);  // Valid JSON.
  EXPECT_TRUE(answer["stations"][0]["features"]["pickup_count"]["value"].is_null());
  EXPECT_TRUE(answer["stations"][0]["features"]["avg_delta_pickup"]["value"].is_null());
}

TEST(ServingApi, ThePostBodyNamesStationsAndFeatures) {
  auto request = ParseFeatureRequest(R"({"station_ids": ["A", "B"], "features": ["x"]})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->stations, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(request->features, (std::vector<std::string>{"x"}));
  for (const char* bad : {"", "[]", R"({"station_ids": "A"})", R"({"station_ids": [1]})"}) {
    EXPECT_FALSE(ParseFeatureRequest(bad).ok()) << bad;
  }
}

// A SQLite warehouse with events at two stations and the default features computed at `ticks`.
class ServingWarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("serving_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    auto opened = OpenWarehouse("sqlite:" + path_.string());
    ASSERT_TRUE(opened.ok()) << opened.status();
    warehouse_ = std::move(*opened);
    ASSERT_TRUE(warehouse_->Setup().ok());
    Batch batch;
    for (int i = 0; i < 12; ++i) {
      batch.events.push_back(Event{"e" + std::to_string(i), i % 3 ? "A" : "B",
                                   kTick - (i + 1) * kMicrosPerMinute,
                                   i % 2 ? Kind::kPickup : Kind::kDropoff, 1 + i % 4});
    }
    ASSERT_TRUE(warehouse_->Commit(batch).ok());
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void ComputeAt(TimestampMicros as_of) {
    auto written = warehouse_->RefreshFeatures(DefaultFeatures(), as_of);
    ASSERT_TRUE(written.ok()) << written.status();
  }

  // The training set's row of `station` at `as_of`, as `training-set --format jsonl` types it.
  QueryResult TrainingRows(TimestampMicros as_of) {
    auto rows =
        warehouse_->TrainingSet({.features = FeatureNames(DefaultFeatures()), .as_of = as_of});
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : QueryResult{};
  }

  // Every station's values held are the training set's, cell for cell and typed alike.
  static void ExpectHeldAsTrained(const LatestTick& tick, const QueryResult& trained) {
    ASSERT_FALSE(trained.rows.empty());
    ASSERT_EQ(tick.stations.size(), trained.rows.size());
    for (const auto& row : trained.rows) {
      const auto& held = tick.stations.at(row[0].text);
      ASSERT_EQ(held.size() + 2, row.size());
      for (std::size_t c = 2; c < row.size(); ++c) {
        EXPECT_EQ(held[c - 2].text, row[c].text) << trained.columns[c];
        EXPECT_EQ(held[c - 2].is_null, row[c].is_null) << trained.columns[c];
        EXPECT_EQ(held[c - 2].is_number, row[c].is_number) << trained.columns[c];
      }
    }
  }

  std::filesystem::path path_;
  std::unique_ptr<Warehouse> warehouse_;
};

TEST_F(ServingWarehouseTest, HoldsTheTrainingSetsRowsOfTheLatestTickAndFollowsNewOnes) {
  FakeClock clock(kTick + kMicrosPerHour);
  LatestFeatures latest(*warehouse_, FeatureNames(DefaultFeatures()), clock, 5 * kMicrosPerSecond);
  ASSERT_TRUE(latest.Refresh().ok());
  EXPECT_EQ(latest.Current(), nullptr);  // Nothing computed yet.

  ComputeAt(kTick - 15 * kMicrosPerMinute);
  ComputeAt(kTick);
  ASSERT_TRUE(latest.Refresh().ok());
  auto tick = latest.Current();
  ASSERT_NE(tick, nullptr);
  EXPECT_EQ(tick->as_of, kTick);
  ExpectHeldAsTrained(*tick, TrainingRows(kTick));

  // A newer tick is read at the next refresh.
  ComputeAt(kTick + 15 * kMicrosPerMinute);
  ASSERT_TRUE(latest.Refresh().ok());
  EXPECT_EQ(latest.Current()->as_of, kTick + 15 * kMicrosPerMinute);

  // The latest tick rewritten in place (a late event, a backfill) is read again after `reread`.
  Batch late;
  late.events = {Event{"late", "A", kTick + kMicrosPerMinute, Kind::kPickup, 7}};
  ASSERT_TRUE(warehouse_->Commit(late).ok());
  ComputeAt(kTick + 15 * kMicrosPerMinute);
  const auto before = latest.Current();
  ASSERT_TRUE(latest.Refresh().ok());
  EXPECT_EQ(latest.Current(), before);  // Within `reread`: not read again.
  clock.Advance(6 * kMicrosPerSecond);
  ASSERT_TRUE(latest.Refresh().ok());
  ASSERT_NE(latest.Current(), before);
  EXPECT_NE(latest.Current()->stations.at("A")[0].text, before->stations.at("A")[0].text);
  ExpectHeldAsTrained(*latest.Current(), TrainingRows(kTick + 15 * kMicrosPerMinute));
}

TEST_F(ServingWarehouseTest, ServesOverHttpWithTheConsolesRules) {
  ComputeAt(kTick);
  FakeClock clock(kTick + kMicrosPerMinute);
  auto open = FeatureServer::Start({.listen = "0.0.0.0:0"}, *warehouse_,
                                   FeatureNames(DefaultFeatures()), clock);
  ASSERT_FALSE(open.ok());  // Off loopback without a token.
  EXPECT_NE(open.status().message().find("--token"), std::string::npos) << open.status();

  auto server = FeatureServer::Start({.listen = "127.0.0.1:0", .token = "s3cret"}, *warehouse_,
                                     FeatureNames(DefaultFeatures()), clock);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  httplib::Client client("http://" + address);
  auto refused = client.Get("/v1/features?station_id=A");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  const httplib::Headers bearer = {{"Authorization", "Bearer s3cret"}};
  auto got = client.Get("/v1/features?station_id=A&feature=pickup_count", bearer);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  json answer = json::parse(got->body);
  EXPECT_EQ(answer["stations"][0]["station_id"], "A");
  EXPECT_EQ(answer["stations"][0]["features"]["pickup_count"]["age_seconds"], 60.0);

  auto posted =
      client.Post("/v1/features", bearer, R"({"station_ids": ["B", "Z"]})", "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 200) << posted->body;
  answer = json::parse(posted->body);
  EXPECT_EQ(answer["stations"][0]["station_id"], "B");
  EXPECT_EQ(answer["unknown_stations"], json::array({"Z"}));
  auto bad = client.Post("/v1/features", bearer, "not json", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  auto health = client.Get("/healthz");  // For probes: no token.
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  auto unguarded = client.Get("/metrics");
  ASSERT_TRUE(unguarded);
  EXPECT_EQ(unguarded->status, 401);
  auto metrics = client.Get("/metrics", bearer);
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("bikestream_serving_requests_total{outcome=\"answered\"} 2"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("bikestream_serving_requests_total{outcome=\"refused\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("bikestream_serving_request_seconds_count 3"), std::string::npos);
  EXPECT_NE(metrics->body.find("bikestream_serving_tick_age_seconds 60"), std::string::npos);
}

}  // namespace
}  // namespace bikestream
