// Who may use the console's server: the page and its assets served from the binary, the API
// behind a token when one is set, loopback Host headers only on loopback (DNS rebinding), and
// actions only with the console's header from its own origin.
#include "console/console_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "cli/cli_test_util.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenWarehouse("sqlite::memory:");
    ASSERT_TRUE(opened.ok()) << opened.status();
    warehouse_ = std::move(*opened);
    ASSERT_TRUE(warehouse_->Setup().ok());
    api_ = std::make_unique<ConsoleApi>(ConsoleWarehouse(*warehouse_),
                                        "sqlite::memory:", DefaultFeatures());
  }

  httplib::Client Start(ConsoleServerOptions options) {
    auto started = ConsoleServer::Start(options, *api_, jobs_);
    EXPECT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    return httplib::Client("http://" + server_->address());
  }

  e2e::TempDir dir_;
  std::unique_ptr<Warehouse> warehouse_;
  std::unique_ptr<ConsoleApi> api_;
  JobWatcher jobs_{{.state_dir = dir_ / "state"}};
  std::unique_ptr<ConsoleServer> server_;
};

TEST_F(ConsoleServerTest, ServesThePageItsAssetsAndTheApi) {
  httplib::Client client = Start({.listen = "127.0.0.1:0"});
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/assets/uPlot.iife.min.js"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  for (const char* asset : {"/assets/console.js", "/assets/console.css",
                            "/assets/uPlot.iife.min.js", "/assets/uPlot.min.css"}) {
    auto reply = client.Get(asset);
    ASSERT_TRUE(reply) << asset;
    EXPECT_EQ(reply->status, 200) << asset;
    EXPECT_GT(reply->body.size(), 1000u) << asset;
  }
  EXPECT_NE(client.Get("/assets/uPlot.iife.min.js")->body.find("uPlot"), std::string::npos);
  // JSON is sent as it is, even to a client that accepts brotli (compressing costs more than the
  // query).
  auto summary = client.Get("/api/summary", {{"Accept-Encoding", "br, gzip"}});
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->status, 200);
  EXPECT_FALSE(summary->has_header("Content-Encoding"));
  EXPECT_NE(summary->body.find("\"warehouse\":\"sqlite::memory:\""), std::string::npos);
  EXPECT_EQ(client.Get("/api/jobs")->status, 200);
  EXPECT_EQ(client.Get("/api/nothing")->status, 404);
}

TEST_F(ConsoleServerTest, OnLoopbackOnlyLoopbackHostsAreAnswered) {
  httplib::Client client = Start({.listen = "127.0.0.1:0"});
  auto rebound = client.Get("/api/summary", {{"Host", "attacker.example:8080"}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
  EXPECT_NE(rebound->body.find("loopback"), std::string::npos);
  // A name that starts like a loopback address is still someone else's name.
  for (const char* host :
       {"127.0.0.1.attacker.example:8080", "127.attacker.example", "localhost.attacker.example"}) {
    auto lookalike = client.Get("/api/summary", {{"Host", host}});
    ASSERT_TRUE(lookalike);
    EXPECT_EQ(lookalike->status, 403) << host;
  }
  EXPECT_EQ(client.Get("/", {{"Host", "localhost:8080"}})->status, 200);
  EXPECT_EQ(client.Get("/", {{"Host", "127.1.2.3:8080"}})->status, 200);
  EXPECT_EQ(client.Get("/", {{"Host", "[::1]:8080"}})->status, 200);
}

TEST_F(ConsoleServerTest, ActionsNeedTheConsolesHeaderAndItsOwnOrigin) {
  httplib::Client client = Start({.listen = "127.0.0.1:0"});
  const std::string own = "http://" + server_->address();
  auto bare = client.Post("/api/dead-letters/replay");  // What a cross-site form could send.
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 403);
  auto foreign = client.Post("/api/dead-letters/replay",
                             {{"X-Bikestream-Console", "1"}, {"Origin", "http://evil.example"}}, "",
                             "text/plain");
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);
  auto ours = client.Post("/api/dead-letters/replay",
                          {{"X-Bikestream-Console", "1"}, {"Origin", own}}, "", "text/plain");
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->status, 200) << ours->body;
  EXPECT_NE(ours->body.find("\"examined\":0"), std::string::npos);
  auto drain =
      client.Post("/api/jobs/drain?job=nope", {{"X-Bikestream-Console", "1"}}, "", "text/plain");
  ASSERT_TRUE(drain);
  EXPECT_EQ(drain->status, 404);
}

TEST_F(ConsoleServerTest, WithATokenTheApiNeedsItThePageDoesNot) {
  httplib::Client client = Start({.listen = "127.0.0.1:0", .token = "s3cret"});
  EXPECT_EQ(client.Get("/")->status, 200);  // The page, which asks for the token.
  EXPECT_EQ(client.Get("/api/summary")->status, 401);
  EXPECT_EQ(client.Get("/api/summary", {{"Authorization", "Bearer wrong!"}})->status, 401);
  EXPECT_EQ(client.Get("/api/summary", {{"Authorization", "Bearer s3cret"}})->status, 200);
  EXPECT_EQ(client.Get("/api/jobs")->status, 401);
}

TEST_F(ConsoleServerTest, OffLoopbackItRefusesToStartWithoutAToken) {
  auto started = ConsoleServer::Start({.listen = "0.0.0.0:0"}, *api_, jobs_);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(started.status().message().find("--token"), std::string::npos);
  auto with_token = ConsoleServer::Start({.listen = "0.0.0.0:0", .token = "t"}, *api_, jobs_);
  EXPECT_TRUE(with_token.ok()) << with_token.status();
}

}  // namespace
}  // namespace bikestream
