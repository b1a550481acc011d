// POST handlers and the admin endpoint take a POST without a body, as curl sends it.
#include "http/post.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "job/admin_server.h"
#include "support/raw_http.h"

namespace bikestream {
namespace {

using testing_support::RawHttpStatus;

class PostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HandlePost(server_, "/echo", [this](const httplib::Request&, const std::string& body, httplib::Response& response) {
      bodies_.push_back(body);
      response.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::vector<std::string> bodies_;
};

TEST_F(PostTest, APostWithoutABodyIsServedWithAnEmptyOne) {
  EXPECT_EQ(RawHttpStatus(port_, "POST /echo HTTP/1.1\r\nHost: test\r\n\r\n"), 200);
  ASSERT_EQ(bodies_.size(), 1u);
  EXPECT_EQ(bodies_[0], "");
}

TEST_F(PostTest, TheBodyIsReadWhenTheRequestDeclaresOne) {
  EXPECT_EQ(RawHttpStatus(port_, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"), 200);
  EXPECT_EQ(RawHttpStatus(port_, "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "3\r\nabc\r\n0\r\n\r\n"),
            200);
  EXPECT_EQ(bodies_, (std::vector<std::string>{"hello", "abc"}));
}

TEST(AdminServer, DrainsCancelsAndRunsOnAPostWithoutABody) {
  JobControl control;
  JobMetrics metrics;
  int runs = 0;
  auto admin = AdminServer::Start({.address = "127.0.0.1:0"}, control, metrics, [] { return "{}"; }, [&] { ++runs; });
  ASSERT_TRUE(admin.ok()) << admin.status();
  const int port = std::stoi((*admin)->address().substr((*admin)->address().rfind(':') + 1));
  EXPECT_EQ(RawHttpStatus(port, "POST /run HTTP/1.1\r\nHost: test\r\n\r\n"), 202);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(RawHttpStatus(port, "POST /drain HTTP/1.1\r\nHost: test\r\n\r\n"), 202);
  EXPECT_EQ(control.state(), JobState::kDraining);
  EXPECT_EQ(RawHttpStatus(port, "POST /cancel HTTP/1.1\r\nHost: test\r\n\r\n"), 202);
  EXPECT_EQ(control.state(), JobState::kCancelled);
}

}  // namespace
}  // namespace bikestream
