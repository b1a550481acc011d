// No secret reaches what bikestream shows. Secrets are planted where a careless or a hostile
// world puts them — in URLs of every kind, flags, key files, tokens that servers echo back —
// every run is made to fail (or to run and be looked at), and everything it showed is searched
// for them: stdout, stderr, the job registry, a job's /job and /metrics, `jobs list`.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "support/loopback_server.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::ReadFile;
using e2e::RunBikestream;
using e2e::ScopedEnv;
using e2e::TempDir;
using testing_support::LoopbackServer;

// Each secret, and the forms it could be shown in: as written, percent-encoded, JSON-escaped.
struct Planted {
  std::string secret;
  std::vector<std::string> forms;
};

std::string PercentEncoded(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(char(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

class SecretsTest : public ::testing::Test {
 protected:
  // A secret unlike anything else a run prints.
  std::string Plant(const std::string& name, const std::string& special = "") {
    std::string secret = "Pl4nt" + name + special + "x9Q";
    planted_.push_back(
        {secret,
         {secret, PercentEncoded(secret), std::regex_replace(secret, std::regex("/"), "\\/")}});
    return secret;
  }

  // Runs bikestream, keeping everything it printed.
  int Run(const std::vector<std::string>& args) {
    std::string out, err;
    const int code = RunBikestream(args, &out, "/dev/null", &err);
    shown_ += fmt::format("\n[bikestream {} …, exit {}]\n{}{}", args.at(0), code, out, err);
    return code;
  }

  void Shown(const std::string& what, const std::string& text) {
    shown_ += fmt::format("\n[{}]\n{}", what, text);
  }

  void TearDown() override {
    if (std::getenv("SHOW_WHAT_WAS_SHOWN"))
      std::cout << shown_ << "\n";  // To read what the runs said.
    for (const Planted& planted : planted_) {
      for (const std::string& form : planted.forms) {
        EXPECT_EQ(shown_.find(form), std::string::npos)
            << "planted secret " << planted.secret << " shown as " << form << " in:\n"
            << shown_;
      }
    }
  }

  TempDir dir_;
  std::vector<Planted> planted_;
  std::string shown_;
};

TEST_F(SecretsTest, UrlsOfEveryKindFailWithoutShowingTheirSecrets) {
  const ScopedEnv no_emulator("PUBSUB_EMULATOR_HOST", std::nullopt);
  const ScopedEnv state("BIKESTREAM_STATE_DIR", dir_ / "state");
  // MQTT: a bad port, a mistyped scheme.
  EXPECT_EQ(Run({"ingest", "--from", "mqtt://u:" + Plant("MqttPort") + "@127.0.0.1:99999/t",
                 "--client-id", "c"}),
            1);
  EXPECT_EQ(Run({"ingest", "--from", "mqtt:/u:" + Plant("MqttSlash") + "@h/t", "--client-id", "c"}),
            1);
  EXPECT_EQ(Run({"simulate", "--to", "mqtt://u:" + Plant("MqttNoTopic") + "@127.0.0.1:1"}), 1);
  // PostgreSQL: a mistyped scheme, a password libpq cannot decode, a password parameter.
  EXPECT_EQ(Run({"setup", "--warehouse", "postgressql://u:" + Plant("PgScheme") + "@127.0.0.1/db"}),
            1);
  EXPECT_EQ(
      Run({"setup", "--warehouse", "postgresql://u:" + Plant("PgBad", "%zz") + "@127.0.0.1:1/db"}),
      1);
  EXPECT_EQ(Run({"setup", "--warehouse", "host=127.0.0.1 port=1 password=" + Plant("PgConninfo")}),
            1);
  // BigQuery: credentials in an endpoint, one in the warehouse URL, a key in a query.
  EXPECT_EQ(Run({"setup", "--warehouse",
                 "bigquery://proj/d?endpoint=https://u:" + Plant("BqEndpoint") + "@127.0.0.1:1"}),
            1);
  EXPECT_EQ(Run({"setup", "--warehouse", "bigquery://proj/d", "--bigquery-endpoint",
                 "http://example.com/?key=" + Plant("BqKey")}),
            1);
  // Pub/Sub: an endpoint with a password; a push endpoint's token.
  {
    const ScopedEnv endpoint("PUBSUB_ENDPOINT",
                             "https://u:" + Plant("PubsubEndpoint") + "@pubsub.example");
    EXPECT_EQ(
        Run({"setup", "--project", "demo", "--topic", "bikes", "--subscription", "bikes-sub"}), 1);
  }
  // GBFS: a feed with a password and a key that nothing answers; Ctrl-C after its first tries.
  {
    const std::string feed =
        "http://u:" + Plant("FeedPassword") + "@127.0.0.1:1/gbfs.json?key=" + Plant("FeedKey");
    Child gbfs({"gbfs", feed, "--system", "s"}, dir_ / "gbfs.out");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    gbfs.Signal(SIGINT);
    EXPECT_EQ(gbfs.Wait(), 130);
    Shown("gbfs, stopped", ReadFile(dir_ / "gbfs.out") + ReadFile(dir_ / "gbfs.out.err"));
    EXPECT_EQ(
        Run({"gbfs", "htps://u:" + Plant("FeedTypo") + "@127.0.0.1/gbfs.json", "--system", "s"}),
        1);
  }
}

// Servers that echo what they were sent — the grant of a token request, the bearer token of an
// API call, a push endpoint's token — have their words quoted without it.
TEST_F(SecretsTest, WhatServersEchoBackIsShownWithoutTheSecretsTheyWereSent) {
  // Known to no one but the feed: only its shape can mask it.
  const std::string listed =
      "https://user:" + Plant("ListedOnly") + "@127.0.0.1:1/station_status.json";
  LoopbackServer echo([&listed](httplib::Server& s) {
    s.Get("/gbfs.json", [&listed](const httplib::Request&, httplib::Response& response) {
      response.set_content(
          fmt::format(R"({{"data":{{"feeds":[{{"name":"station_status","url":"{}"}}]}}}})", listed),
          "application/json");
    });
    s.Post("/token", [](const httplib::Request& request, httplib::Response& response) {
      response.status = 400;
      response.set_content(
          fmt::format(R"({{"error":"invalid_grant","error_description":"bad grant: {}"}})",
                      request.body),
          "application/json");
    });
    // Pub/Sub's REST API, answering every call with what it was sent.
    const auto echo_all = [](const httplib::Request& request, httplib::Response& response) {
      response.status = 400;
      std::string headers;
      for (const auto& [name, value] : request.headers)
        headers += fmt::format("{}: {}\n", name, value);
      response.set_content(request.body + "\n" + headers, "text/plain");
    };
    s.Get(R"(/v1/.*)", echo_all);
    s.Post(R"(/v1/.*)", echo_all);
    s.Put(R"(/v1/projects/demo/topics/.*)",
          [](const httplib::Request&, httplib::Response& response) {
            response.set_content("{}", "application/json");
          });
    s.Put(R"(/v1/projects/demo/subscriptions/refused)", echo_all);
    s.Put(R"(/v1/projects/demo/subscriptions/.*)",
          [](const httplib::Request&, httplib::Response& response) {
            response.set_content("{}", "application/json");
          });
  });
  {  // Fetched over https with a user's password that only the feed knew: refused, not shown.
    Child gbfs({"gbfs", echo.url() + "/gbfs.json", "--system", "s"}, dir_ / "listed.out");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    gbfs.Signal(SIGINT);
    EXPECT_EQ(gbfs.Wait(), 130);
    Shown("gbfs of a feed listing a password",
          ReadFile(dir_ / "listed.out") + ReadFile(dir_ / "listed.out.err"));
  }
  const ScopedEnv no_emulator("PUBSUB_EMULATOR_HOST", std::nullopt);
  const ScopedEnv endpoint("PUBSUB_ENDPOINT", echo.url());
  const ScopedEnv home("HOME", dir_ / "home");
  {
    const std::string key = dir_ / "user.json";
    std::ofstream(key) << fmt::format(
        R"({{"type":"authorized_user","client_id":"id","client_secret":"{}","refresh_token":"{}","token_uri":"{}/token"}})",
        Plant("ClientSecret"), Plant("RefreshToken"), echo.url());
    const ScopedEnv credentials("GOOGLE_APPLICATION_CREDENTIALS", key);
    const ScopedEnv no_token("GOOGLE_OAUTH_ACCESS_TOKEN", std::nullopt);
    EXPECT_EQ(Run({"simulate", "--to", "pubsub", "--project", "demo", "--topic", "bikes", "--count",
                   "1"}),
              1);
  }
  {
    const ScopedEnv token("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29." + Plant("AccessToken"));
    EXPECT_EQ(Run({"simulate", "--to", "pubsub", "--project", "demo", "--topic", "bikes", "--count",
                   "1"}),
              1);
    const std::string push_endpoint = "https://push.example/push?token=" + Plant("PushToken");
    EXPECT_EQ(Run({"setup", "--project", "demo", "--topic", "bikes", "--subscription", "refused",
                   "--push-endpoint", push_endpoint, "--warehouse", "sqlite:" + dir_ / "w.db"}),
              1);
    EXPECT_EQ(Run({"setup", "--project", "demo", "--topic", "bikes", "--subscription", "bikes-sub",
                   "--push-endpoint", push_endpoint, "--warehouse", "sqlite:" + dir_ / "w.db"}),
              0);
    EXPECT_NE(shown_.find("(push to https://push.example/push?token=***)"), std::string::npos);
  }
}

// A running job: its registry record, /job, /metrics and `jobs list`, with a push token and an
// admin token set, and a push request with a wrong token refused.
TEST_F(SecretsTest, ARunningJobShowsNoneOfItsSecrets) {
  const ScopedEnv state("BIKESTREAM_STATE_DIR", dir_ / "state");
  const std::string admin_token = Plant("AdminToken");
  const std::string push_token = Plant("PushListenToken");
  Child job({"ingest", "--push-listen", "127.0.0.1:0", "--push-token", push_token, "--admin-token",
             admin_token, "--warehouse", "sqlite:" + dir_ / "w.db"},
            dir_ / "job.out");
  const auto match = e2e::WaitForMatch(
      dir_ / "job.out.err", R"(push requests at http://([\d.:]+)/[\s\S]*admin http://([\d.:]+) )");
  ASSERT_EQ(match.size(), 3u) << ReadFile(dir_ / "job.out.err");
  httplib::Client push("http://" + match[1]);
  auto refused = push.Post("/?token=wrong", R"({"message":{"data":"e30=","messageId":"1"}})",
                           "application/json");
  ASSERT_TRUE(refused);
  Shown("push with a wrong token", refused->body);
  httplib::Client admin("http://" + match[2]);
  admin.set_bearer_token_auth(admin_token);
  for (const char* path : {"/job", "/metrics"}) {
    auto answer = admin.Get(path);
    ASSERT_TRUE(answer && answer->status == 200) << path;
    Shown(path, answer->body);
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ / "state")) {
    if (entry.is_regular_file()) Shown(entry.path().string(), ReadFile(entry.path().string()));
  }
  EXPECT_EQ(Run({"jobs", "list", "--admin-token", admin_token}), 0);
  {  // The console's view of the job.
    Child console({"console", "--warehouse", "sqlite:" + dir_ / "w.db", "--listen", "127.0.0.1:0",
                   "--admin-token", admin_token},
                  dir_ / "console.out");
    const auto at = e2e::WaitForMatch(dir_ / "console.out.err", R"(at http://([\d.:]+)/)");
    ASSERT_EQ(at.size(), 2u) << ReadFile(dir_ / "console.out.err");
    httplib::Client page("http://" + at[1]);
    auto jobs = page.Get("/api/jobs");
    ASSERT_TRUE(jobs && jobs->status == 200);
    EXPECT_NE(jobs->body.find(R"("state":"RUNNING")"), std::string::npos) << jobs->body;
    Shown("/api/jobs", jobs->body);
    console.Signal(SIGINT);
    EXPECT_EQ(console.Wait(), 0);
    Shown("the console", ReadFile(dir_ / "console.out") + ReadFile(dir_ / "console.out.err"));
  }
  job.Signal(SIGTERM);
  EXPECT_EQ(job.Wait(), 0);
  Shown("the job", ReadFile(dir_ / "job.out") + ReadFile(dir_ / "job.out.err"));
  // Once it ended, its record is kept a day, with how it ended.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ / "state")) {
    if (entry.is_regular_file()) Shown(entry.path().string(), ReadFile(entry.path().string()));
  }
}

}  // namespace
}  // namespace bikestream
