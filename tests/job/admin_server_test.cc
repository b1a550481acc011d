// The admin endpoint serves its own job only, and requires its token where it has one.
#include "job/admin_server.h"

#include <gtest/gtest.h>

#include "support/raw_http.h"

namespace bikestream {
namespace {

using testing_support::RawHttpStatus;

int PortOf(const AdminServer& admin) { return std::stoi(admin.address().substr(admin.address().rfind(':') + 1)); }

std::string Get(const std::string& target, const std::string& headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + headers + "\r\n";
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
  EXPECT_EQ(RawHttpStatus(port, "POST /drain?job=job-a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"), 404);
  EXPECT_EQ(control_.state(), JobState::kRunning);
  EXPECT_EQ(RawHttpStatus(port, Get("/job?job=job-a")), 404);
  EXPECT_EQ(RawHttpStatus(port, Get("/job?job=job-b")), 200);
  EXPECT_EQ(RawHttpStatus(port, "POST /drain?job=job-b HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"), 202);
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
  EXPECT_EQ(RawHttpStatus(port, "POST /cancel HTTP/1.1\r\nHost: t\r\n\r\n"), 401);
  EXPECT_EQ(control_.state(), JobState::kRunning);
  EXPECT_EQ(RawHttpStatus(port, "POST /cancel HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret\r\n\r\n"), 202);
  EXPECT_EQ(control_.state(), JobState::kCancelled);
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
