// The serving endpoint: its answers (values with their as_of, age and staleness; unknown
// stations and features named; limits), and the HTTP server on a SQLite warehouse with its
// access rules, new ticks, /healthz and /metrics. The tick held, on every engine, is
// latest_features_test.cc's.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "features/feature_spec.h"
#include "serving/feature_server.h"
#include "serving/serving_api.h"
#include "support/events.h"
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
    batch.events = testing_support::TwoStationsBefore(kTick);
    ASSERT_TRUE(warehouse_->Commit(batch).ok());
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void ComputeAt(TimestampMicros as_of) {
    auto written = warehouse_->RefreshFeatures(DefaultFeatures(), as_of);
    ASSERT_TRUE(written.ok()) << written.status();
  }

  std::filesystem::path path_;
  std::unique_ptr<Warehouse> warehouse_;
};

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

// The server's refresh thread sleeps on the fake clock: each step of `poll` wakes it once.
// Steps until `done` holds, for at most 20 s of real time.
bool StepUntil(FakeClock& clock, DurationMicros poll, const std::function<bool()>& done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    clock.Advance(poll);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST_F(ServingWarehouseTest, ServesNewTicksOverHttpAndSaysWhenItCannotRead) {
  FakeClock clock(kTick + kMicrosPerMinute);
  // The server's store is its own, as in a process of its own; the test writes through
  // warehouse_, as a feature job would.
  auto served_store = OpenWarehouse("sqlite:" + path_.string(), {}, OpenMode::kMustExist);
  ASSERT_TRUE(served_store.ok()) << served_store.status();
  const FeatureServerOptions options{.listen = "127.0.0.1:0"};
  auto server =
      FeatureServer::Start(options, **served_store, FeatureNames(DefaultFeatures()), clock);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("http://" + (*server)->address());
  const auto status_of = [&](const std::string& path) {
    auto got = client.Get(path);
    return got ? got->status : -1;
  };
  const auto as_of_served = [&] {
    auto got = client.Get("/v1/features?station_id=A");
    return got && got->status == 200 ? json::parse(got->body)["as_of"].get<std::string>() : "";
  };

  // Nothing computed yet: nothing to serve, and /healthz says why.
  EXPECT_EQ(status_of("/v1/features?station_id=A"), 503);
  auto unhealthy = client.Get("/healthz");
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ(unhealthy->status, 503);
  EXPECT_NE(unhealthy->body.find("no features yet"), std::string::npos) << unhealthy->body;

  // A tick committed is served at a later poll, and then a newer one.
  ComputeAt(kTick);
  EXPECT_TRUE(
      StepUntil(clock, options.poll, [&] { return as_of_served() == "2025-11-16T00:00:00Z"; }));
  EXPECT_EQ(status_of("/healthz"), 200);
  ComputeAt(kTick + 15 * kMicrosPerMinute);
  EXPECT_TRUE(
      StepUntil(clock, options.poll, [&] { return as_of_served() == "2025-11-16T00:15:00Z"; }));

  // A body past the limit is refused before it is read whole.
  auto huge = client.Post("/v1/features", std::string(300 * 1024, ' '), "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);

  // The warehouse unreadable: the tick held is still served, /healthz says why.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const auto exec = [&](const char* sql) {
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  };
  exec("ALTER TABLE main.station_features RENAME TO station_features_away");
  EXPECT_TRUE(StepUntil(clock, options.poll, [&] { return status_of("/healthz") == 503; }));
  auto why = client.Get("/healthz");
  ASSERT_TRUE(why);
  EXPECT_NE(why->body.find("cannot read the latest features"), std::string::npos) << why->body;
  EXPECT_EQ(as_of_served(), "2025-11-16T00:15:00Z");
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(std::regex_search(metrics->body,
                                std::regex("bikestream_serving_refresh_failures_total [1-9]")))
      << metrics->body;
  exec("ALTER TABLE main.station_features_away RENAME TO station_features");
  sqlite3_close(db);
  EXPECT_TRUE(StepUntil(clock, options.poll, [&] { return status_of("/healthz") == 200; }));
}

}  // namespace
}  // namespace bikestream
