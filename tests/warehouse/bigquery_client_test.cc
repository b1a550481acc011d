// BigQuery's REST client against the tests' stand-in (support/bigquery_stand_in.h), which
// checks each request against BigQuery's published schema: jobs under the caller's id, lost
// answers, retries by reason, paging, and the errors that name the fix.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/limits.h"
#include "http/http_client.h"
#include "support/bigquery_sqlite.h"
#include "support/bigquery_stand_in.h"
#include "support/fake_clock.h"
#include "warehouse/bigquery/client.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;
using testing_support::BigQueryStandIn;
using testing_support::FakeClock;

constexpr TimestampMicros kNoon = 1760788800000000;  // 2025-10-18T12:00:00Z

// `count` rows of (id STRING, ts TIMESTAMP, n INTEGER), every tenth n NULL.
BigQueryStandIn::Result Numbered(int count) {
  BigQueryStandIn::Result result{
      .fields = {{"id", "STRING"}, {"ts", "TIMESTAMP"}, {"n", "INTEGER"}},
      .bytes_processed = 10485760};
  for (int i = 0; i < count; ++i) {
    result.rows.push_back(
        {"e-" + std::to_string(i), std::to_string(kNoon + i),
         i % 10 == 0 ? std::nullopt : std::optional<std::string>(std::to_string(i))});
  }
  return result;
}

class BigQueryClientTest : public ::testing::Test {
 protected:
  explicit BigQueryClientTest(BigQueryStandIn::Options options = {})
      : stand_in_(std::move(options), [this](const json& query) -> BigQueryStandIn::Outcome {
          last_query_ = query;
          if (failure_) return *failure_;
          return Numbered(rows_);
        }) {}

  Client MakeClient(std::shared_ptr<gcp::Credentials> credentials = nullptr) {
    return Client(ClientOptions{.endpoint = stand_in_.url(),
                                .project = "test-project",
                                .location = "EU",
                                .credentials = std::move(credentials),
                                .clock = &clock_,
                                .page_rows = 1000});
  }

  int Calls(const std::string& method) {
    const auto calls = stand_in_.calls();
    return int(std::count(calls.begin(), calls.end(), method));
  }

  void TearDown() override {
    EXPECT_EQ(stand_in_.invalid_requests(), expected_invalid_requests_)
        << "a request broke BigQuery's schema";
  }

  FakeClock clock_{kNoon, FakeClock::Mode::kJumping};
  int rows_ = 3;
  int expected_invalid_requests_ = 0;
  std::optional<BigQueryStandIn::Failure> failure_;
  json last_query_;
  BigQueryStandIn stand_in_;
};

TEST_F(BigQueryClientTest, RunsAJobUnderItsIdWithItsParametersAndReadsEveryPage) {
  rows_ = 2500;
  Client client = MakeClient();
  const json parameters =
      json::array({ScalarParameter("first_day", "TIMESTAMP", TimestampText(kNoon)),
                   StructArrayParameter("events", {{"event_id", "STRING"}, {"delta", "INT64"}},
                                        {{"e-1", "2"}, {"e-2", std::nullopt}})});
  auto rows = client.RunQueryJob("bikestream_test_1", "SELECT 1", parameters);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(stand_in_.job_ids(), std::vector<std::string>{"bikestream_test_1"});
  EXPECT_EQ(last_query_["query"], "SELECT 1");
  EXPECT_EQ(last_query_["useLegacySql"], false);
  EXPECT_EQ(last_query_["queryParameters"], parameters);
  EXPECT_EQ(parameters[0]["parameterValue"]["value"], "2025-10-18 12:00:00+00");
  ASSERT_EQ(rows->rows.size(), 2500u);
  EXPECT_EQ(Calls("jobs.getQueryResults"), 3);
  ASSERT_EQ(rows->fields.size(), 3u);
  EXPECT_EQ(rows->fields[1].name, "ts");
  EXPECT_EQ(rows->fields[1].type, "TIMESTAMP");
  // Timestamps as exact microseconds (useInt64Timestamp), NULL as nullopt, in order.
  EXPECT_EQ(rows->rows[2499][0], "e-2499");
  EXPECT_EQ(rows->rows[2499][1], std::to_string(kNoon + 2499));
  EXPECT_EQ(rows->rows[2499][2], "2499");
  EXPECT_EQ(rows->rows[2490][2], std::nullopt);
  EXPECT_EQ(rows->bytes_processed, 10485760);
}

TEST_F(BigQueryClientTest, WaitsUntilTheJobIsDone) {
  // The fixture's stand-in answers DONE at once; this one answers RUNNING thrice first.
  BigQueryStandIn slow({.polls_before_done = 3},
                       [](const json&) -> BigQueryStandIn::Outcome { return Numbered(2); });
  Client slow_client(
      ClientOptions{.endpoint = slow.url(), .project = "test-project", .clock = &clock_});
  auto rows = slow_client.RunQueryJob("slow_job", "SELECT 1", json::array());
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->rows.size(), 2u);
  const auto calls = slow.calls();
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "jobs.get"), 4);
  EXPECT_EQ(slow.invalid_requests(), 0);
}

TEST_F(BigQueryClientTest, ALostAnswerReadsBackTheJobThatRanAndRunsNothingTwice) {
  stand_in_.InjectFault({.method = "jobs.insert",
                         .http_status = 503,
                         .reason = "backendError",
                         .after_applying = true});
  Client client = MakeClient();
  auto rows = client.RunQueryJob("bikestream_lost", "INSERT ...", json::array());
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(stand_in_.executions(), 1);
  EXPECT_EQ(Calls("jobs.insert"), 2);  // The retry got 409 duplicate, and read the job.
  EXPECT_EQ(rows->rows.size(), 3u);
}

TEST_F(BigQueryClientTest, AJobIdTakenByAnotherStatementIsAnErrorNotItsAnswer) {
  Client client = MakeClient();
  ASSERT_TRUE(client.RunQueryJob("bikestream_taken", "SELECT 1", json::array()).ok());
  auto other = client.RunQueryJob("bikestream_taken", "SELECT 2", json::array());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().ToString().find("runs another statement"), std::string::npos)
      << other.status();
  EXPECT_EQ(stand_in_.executions(), 1);
}

TEST_F(BigQueryClientTest, RateLimitsAreRetriedAndQuotasAreNot) {
  Client client = MakeClient();
  stand_in_.InjectFault(
      {.method = "jobs.insert", .http_status = 403, .reason = "rateLimitExceeded"});
  stand_in_.InjectFault({.method = "jobs.get", .http_status = 500, .reason = "internalError"});
  stand_in_.InjectFault(
      {.method = "jobs.getQueryResults", .http_status = 429, .reason = "rateLimitExceeded"});
  ASSERT_TRUE(client.RunQueryJob("bikestream_rate", "SELECT 1", json::array()).ok());
  EXPECT_EQ(stand_in_.executions(), 1);

  stand_in_.InjectFault({.method = "jobs.insert", .http_status = 403, .reason = "quotaExceeded"});
  auto refused = client.RunQueryJob("bikestream_quota", "SELECT 1", json::array());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(refused.status()), "quotaExceeded");
  EXPECT_NE(refused.status().ToString().find("quota"), std::string::npos) << refused.status();
  EXPECT_EQ(Calls("jobs.insert"), 3);  // Twice for the first job, once for the refused one.
  EXPECT_EQ(stand_in_.executions(), 1);
}

TEST_F(BigQueryClientTest, AJobThatFailedForAPassingReasonRunsAgainUnderANewId) {
  stand_in_.FailNextJob(
      {.reason = "jobBackendError", .message = "The job encountered an internal error"});
  Client client = MakeClient();
  auto rows = client.RunQueryJob("bikestream_again", "SELECT 1", json::array());
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(stand_in_.job_ids(),
            (std::vector<std::string>{"bikestream_again", "bikestream_again_r1"}));
  EXPECT_EQ(stand_in_.executions(), 1);
}

TEST_F(BigQueryClientTest, AFailedStatementIsItsErrorAndIsNotRunAgain) {
  failure_ =
      BigQueryStandIn::Failure{"invalidQuery", "Syntax error: Unexpected keyword FORM at [1:10]"};
  Client client = MakeClient();
  auto rows = client.RunQueryJob("bikestream_bad", "SELECT 1 FORM t", json::array());
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().ToString().find("Syntax error: Unexpected keyword FORM"),
            std::string::npos)
      << rows.status();
  EXPECT_EQ(stand_in_.executions(), 1);
  auto query = client.Query("SELECT 1 FORM t", json::array());
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(ReasonOf(query.status()), "invalidQuery");
}

TEST_F(BigQueryClientTest, PermanentErrorsSayWhatToFix) {
  Client client = MakeClient();
  stand_in_.InjectFault({.method = "jobs.insert", .http_status = 403, .reason = "accessDenied"});
  auto denied = client.RunQueryJob("bikestream_denied", "SELECT 1", json::array());
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().ToString().find("roles/bigquery.dataEditor"), std::string::npos)
      << denied.status();
  stand_in_.InjectFault({.method = "jobs.insert", .http_status = 404, .reason = "notFound"});
  auto missing = client.RunQueryJob("bikestream_missing", "SELECT 1", json::array());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("bikestream setup"), std::string::npos)
      << missing.status();
  EXPECT_EQ(Calls("jobs.insert"), 2);  // Neither is retried.
}

TEST_F(BigQueryClientTest, QueriesGoThroughJobsQueryAndReadTheRestPageByPage) {
  rows_ = 2500;
  Client client = MakeClient();
  auto rows =
      client.Query("SELECT id, ts, n FROM t", json::array({ScalarParameter("n", "INT64", "3")}));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2500u);
  EXPECT_EQ(rows->rows[1234][0], "e-1234");
  EXPECT_EQ(rows->rows[1234][1], std::to_string(kNoon + 1234));
  EXPECT_EQ(Calls("jobs.query"), 1);
  EXPECT_EQ(Calls("jobs.getQueryResults"), 2);

  // Page by page, none of them kept.
  std::vector<std::size_t> pages;
  std::string last_id;
  auto visited =
      client.Query("SELECT id, ts, n FROM t", json::array({ScalarParameter("n", "INT64", "3")}),
                   [&](const Rows& page) {
                     pages.push_back(page.rows.size());
                     EXPECT_EQ(page.fields.size(), 3u);
                     last_id = *page.rows.back()[0];
                   });
  ASSERT_TRUE(visited.ok()) << visited.status();
  EXPECT_TRUE(visited->rows.empty());
  EXPECT_EQ(pages, (std::vector<std::size_t>{1000, 1000, 500}));
  EXPECT_EQ(last_id, "e-2499");
}

TEST_F(BigQueryClientTest, DatasetsAndTablesAreCreatedOnceAndReadBack) {
  Client client = MakeClient();
  auto none = client.GetDataset("bikes");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  const json dataset = {
      {"datasetReference", {{"projectId", "test-project"}, {"datasetId", "bikes"}}},
      {"location", "EU"}};
  ASSERT_TRUE(client.CreateDataset(dataset).ok());
  EXPECT_EQ(client.CreateDataset(dataset).code(), absl::StatusCode::kAlreadyExists);
  auto found = client.GetDataset("bikes");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((**found)["location"], "EU");
  const json table = {
      {"tableReference",
       {{"projectId", "test-project"}, {"datasetId", "bikes"}, {"tableId", "raw_events"}}},
      {"schema",
       {{"fields",
         json::array({{{"name", "event_id"}, {"type", "STRING"}, {"mode", "REQUIRED"}}})}}},
      {"timePartitioning", {{"type", "DAY"}, {"field", "ts_iso"}}}};
  ASSERT_TRUE(client.CreateTable("bikes", table).ok());
  auto read = client.GetTable("bikes", "raw_events");
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((**read)["timePartitioning"]["field"], "ts_iso");
  auto absent = client.GetTable("bikes", "station_features");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
}

TEST_F(BigQueryClientTest, SendsTheTokenOfItsCredentials) {
  BigQueryStandIn guarded({.token = "ya29.test-token"},
                          [](const json&) -> BigQueryStandIn::Outcome { return Numbered(1); });
  Client with(ClientOptions{.endpoint = guarded.url(),
                            .project = "test-project",
                            .credentials = gcp::MakeAccessTokenCredentials("ya29.test-token"),
                            .clock = &clock_});
  EXPECT_TRUE(with.RunQueryJob("bikestream_auth", "SELECT 1", json::array()).ok());
  Client without(
      ClientOptions{.endpoint = guarded.url(), .project = "test-project", .clock = &clock_});
  auto refused = without.RunQueryJob("bikestream_anon", "SELECT 1", json::array());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
}

// The stand-in's check is what makes the tests above mean something: it must refuse what
// BigQuery would.
TEST_F(BigQueryClientTest, TheStandInRefusesRequestsThatBreakThePublishedSchema) {
  http::HttpClient http(
      {.timeout = std::chrono::seconds(10), .max_reply_bytes = limits::kApiReply});
  auto post = [&](const std::string& path, const json& body) {
    auto response =
        http.Send("POST", stand_in_.url() + "/bigquery/v2/projects/test-project/" + path,
                  body.dump(), {"Content-Type: application/json"});
    return response.ok() ? response->status : 0L;
  };
  const json reference = {{"projectId", "test-project"}, {"jobId", "x"}};
  const json query = {{"query", {{"query", "SELECT 1"}, {"useLegacySql", false}}}};
  EXPECT_EQ(
      post("jobs", {{"jobReference", reference}, {"configuration", query}, {"colour", "red"}}),
      400);
  EXPECT_EQ(post("jobs", {{"jobReference", reference}}), 400);  // configuration is required.
  EXPECT_EQ(post("jobs", {{"jobReference", reference},
                          {"configuration", query},
                          {"status", {{"state", "DONE"}}}}),
            400);  // Output only.
  EXPECT_EQ(post("datasets", {{"datasetReference", {{"datasetId", "d"}}},
                              {"defaultTableExpirationMs", 3600000}}),
            400);  // An int64 goes as a string.
  EXPECT_EQ(post("queries", {{"query", "SELECT 1"}, {"useLegacySql", "false"}}),
            400);  // Not a boolean.
  auto get = http.Send(
      "GET", stand_in_.url() + "/bigquery/v2/projects/test-project/jobs/x?colour=red", "", {});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 400);
  EXPECT_EQ(stand_in_.invalid_requests(), 6);
  EXPECT_EQ(stand_in_.executions(), 0);
  EXPECT_EQ(post("datasets", {{"datasetReference", {{"datasetId", "d"}}},
                              {"defaultTableExpirationMs", "3600000"}}),
            200);
  expected_invalid_requests_ = 6;
}

// Load jobs, on the stand-in's SQLite engine: a multipart upload under the caller's id that
// creates the table and appends, once per id, within the table's daily changes.
class BigQueryLoadTest : public ::testing::Test {
 protected:
  BigQueryLoadTest()
      : stand_in_({.table_changes_per_day = 3},
                  std::make_unique<testing_support::BigQuerySqliteEngine>()) {}

  Client MakeClient() {
    return Client(ClientOptions{.endpoint = stand_in_.url(),
                                .project = "test-project",
                                .default_dataset = "bikes",
                                .clock = &clock_});
  }

  std::string Count(Client& client) {
    auto rows = client.RunQueryJob(UniqueJobId("count"), "SELECT COUNT(*) AS n FROM `staged`",
                                   json::array());
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? rows->rows.at(0).at(0).value_or("") : "";
  }

  void TearDown() override { EXPECT_EQ(stand_in_.invalid_requests(), 0); }

  const std::vector<Field> schema_ = {{"batch", "STRING"}, {"pos", "INT64"}, {"ts", "TIMESTAMP"}};
  BigQueryStandIn stand_in_;
  FakeClock clock_{0, FakeClock::Mode::kJumping};
};

TEST_F(BigQueryLoadTest, AppendsRowsOnceAJobIdAndCreatesTheTable) {
  Client client = MakeClient();
  ASSERT_TRUE(client.CreateDataset({{"datasetReference", {{"datasetId", "bikes"}}}}).ok());
  const std::string rows = R"({"batch":"b1","pos":0,"ts":"2025-11-16 00:00:01.5+00"})"
                           "\n"
                           R"({"batch":"b1","pos":1,"ts":"2025-11-16 00:00:02+00"})"
                           "\n";
  absl::Status loaded = client.LoadRows("stage_b1", "staged", schema_, rows);
  ASSERT_TRUE(loaded.ok()) << loaded;
  EXPECT_EQ(Count(client), "2");
  // The answer lost after the load ran: the retried insert finds the job, loads nothing again.
  stand_in_.InjectFault({.method = "jobs.insert", .http_status = 503, .after_applying = true});
  ASSERT_TRUE(client.LoadRows("stage_b2", "staged", schema_, rows).ok());
  EXPECT_EQ(Count(client), "4");
  // A row that does not fit the table fails the load, which adds nothing.
  absl::Status bad = client.LoadRows("stage_b3", "staged", schema_, R"({"batch":"b3","x":1})");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.ToString().find("no such field: x"), std::string::npos) << bad;
  EXPECT_EQ(Count(client), "4");
}

TEST_F(BigQueryLoadTest, ATableTakesItsChangesADayAndThenSaysSo) {
  Client client = MakeClient();
  ASSERT_TRUE(client.CreateDataset({{"datasetReference", {{"datasetId", "bikes"}}}}).ok());
  const std::string row = R"({"batch":"b","pos":0,"ts":"2025-11-16T00:00:00Z"})";
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.LoadRows("load_" + std::to_string(i), "staged", schema_, row).ok());
  }
  absl::Status over = client.LoadRows("load_3", "staged", schema_, row);
  EXPECT_EQ(ReasonOf(over), "quotaExceeded") << over;
  EXPECT_EQ(Count(client), "3");
}

TEST_F(BigQueryLoadTest, TablesAreListedByPrefixReadWithoutAQueryAndDeletedOnce) {
  Client client = MakeClient();
  ASSERT_TRUE(client.CreateDataset({{"datasetReference", {{"datasetId", "bikes"}}}}).ok());
  for (const char* table : {"stage_a", "stage_b", "other"}) {
    ASSERT_TRUE(client
                    .LoadRows(std::string("load_") + table, table, schema_,
                              R"({"batch":"b","pos":7,"ts":"2025-11-16 00:00:01.5+00"})")
                    .ok());
  }
  auto staged = client.ListTables("stage_");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_EQ(staged->size(), 2u);
  EXPECT_EQ(staged->at(0).id, "stage_a");
  EXPECT_EQ(staged->at(1).id, "stage_b");
  EXPECT_GT(staged->at(0).created, 0);

  auto rows = client.ReadTable("stage_a", {"pos", "ts"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0], (std::vector<std::optional<std::string>>{"7", "1763251201500000"}));

  ASSERT_TRUE(client.DeleteTable("stage_a").ok());
  EXPECT_TRUE(client.DeleteTable("stage_a").ok());  // Gone already: done.
  staged = client.ListTables("stage_");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_EQ(staged->size(), 1u);
  EXPECT_EQ(staged->at(0).id, "stage_b");
}

}  // namespace
}  // namespace bikestream::bigquery
