// The admin endpoint serves its own job only, requires its token where it has one, and obeys
// only who may ask: a loopback Host, no other origin, POSTs with X-Bikestream-Admin: 1.
#include "job/admin_server.h"

#include <gtest/gtest.h>

#include "support/raw_http.h"

namespace bikestream {
namespace {

using testing_support::RawHttpStatus;

int PortOf(const AdminServer& admin) {
  return std::stoi(admin.address().substr(admin.address().rfind(':') + 1));
}

std::string Get(const std::string& target, const std::string& headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

// A POST as `bikestream jobs` and the console send it.
std::string Post(const std::string& target, const std::string& headers = "") {
  return "POST " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bikestream-Admin: 1\r\nContent-Length: 0\r\n" +
         headers + "\r\n";
}

class AdminServerTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<AdminServer>> Start(AdminOptions options) {
    return AdminServer::Start(options, control_, metrics_, [] { return "{}\n"; });
  }
  JobControl control_;
  JobMetrics metrics_;
};

TEST_F(AdminServerTest, ARequestNamingAnotherJobIsRefusedAndChangesNothing) {
  auto admin = Start({.job_id = "job-b"});
  ASSERT_TRUE(admin.ok()) << admin.status();
  const int port = PortOf(**admin);
  EXPECT_EQ(RawHttpStatus(port, Post("/drain?job=job-a")), 404);
  EXPECT_EQ(control_.state(), JobState::kRunning);
  EXPECT_EQ(RawHttpStatus(port, Get("/job?job=job-a")), 404);
  EXPECT_EQ(RawHttpStatus(port, Get("/job?job=job-b")), 200);
  EXPECT_EQ(RawHttpStatus(port, Post("/drain?job=job-b")), 202);
  EXPECT_EQ(control_.state(), JobState::kDraining);
}

TEST_F(AdminServerTest, WithATokenEveryRequestButHealthzMustCarryIt) {
  auto admin = Start({.token = "s3cret"});
  ASSERT_TRUE(admin.ok()) << admin.status();
  const int port = PortOf(**admin);
  EXPECT_EQ(RawHttpStatus(port, Get("/healthz")), 200);
  EXPECT_EQ(RawHttpStatus(port, Get("/job")), 401);
  EXPECT_EQ(RawHttpStatus(port, Get("/metrics", "Authorization: Bearer wrong!\r\n")), 401);
  EXPECT_EQ(RawHttpStatus(port, Get("/job", "Authorization: Bearer s3cret\r\n")), 200);
  // Without the token, not even which job this is: 401 before any 404.
  EXPECT_EQ(RawHttpStatus(port, Get("/job?job=another")), 401);
  EXPECT_EQ(RawHttpStatus(port, Post("/cancel")), 401);
  EXPECT_EQ(control_.state(), JobState::kRunning);
  EXPECT_EQ(RawHttpStatus(port, Post("/cancel", "Authorization: Bearer s3cret\r\n")), 202);
  EXPECT_EQ(control_.state(), JobState::kCancelled);
}

// A web page cannot steer a job: not through a name of its own pointed at 127.0.0.1 (DNS
// rebinding: its Host header), not from another origin, not with a POST a form or a no-cors
// fetch can send (no X-Bikestream-Admin header). tests/job/admin_browser_test.mjs does the
// same from a real browser.
TEST_F(AdminServerTest, OnlyWhoMayAskIsAnswered) {
  auto admin = Start({.job_id = "job-a"});
  ASSERT_TRUE(admin.ok()) << admin.status();
  const int port = PortOf(**admin);
  for (const char* host :
       {"attacker.example", "127.0.0.1.attacker.example", "localhost.attacker.example"}) {
    EXPECT_EQ(RawHttpStatus(port, std::string("GET /job HTTP/1.1\r\nHost: ") + host + "\r\n\r\n"),
              403)
        << host;
    EXPECT_EQ(RawHttpStatus(port, std::string("POST /cancel HTTP/1.1\r\nHost: ") + host +
                                      "\r\nX-Bikestream-Admin: 1\r\nContent-Length: 0\r\n\r\n"),
              403)
        << host;
  }
  EXPECT_EQ(RawHttpStatus(port, Get("/job", "Origin: http://127.0.0.1:9\r\n")), 403);
  EXPECT_EQ(RawHttpStatus(port, Post("/cancel", "Origin: http://evil.example\r\n")), 403);
  EXPECT_EQ(
      RawHttpStatus(port, "POST /cancel HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"),
      403);
  EXPECT_EQ(RawHttpStatus(
                port, "POST /drain HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bikestream-Admin: yes\r\n\r\n"),
            403);
  EXPECT_EQ(control_.state(), JobState::kRunning);
  // Its own origin, a probe without one, and the tools that name the job are answered.
  EXPECT_EQ(RawHttpStatus(port, Get("/metrics", "Origin: http://127.0.0.1\r\n")), 200);
  EXPECT_EQ(RawHttpStatus(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"), 200);
  EXPECT_EQ(RawHttpStatus(port, Post("/drain?job=job-a")), 202);
  EXPECT_EQ(control_.state(), JobState::kDraining);
}

TEST_F(AdminServerTest, AnAddressOffLoopbackNeedsAToken) {
  auto open = Start({.address = "0.0.0.0:0"});
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(open.status().message().find("--admin-token"), std::string::npos) << open.status();
  auto guarded = Start({.address = "0.0.0.0:0", .token = "s3cret"});
  EXPECT_TRUE(guarded.ok()) << guarded.status();
}

}  // namespace
}  // namespace bikestream
