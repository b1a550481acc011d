// POST handlers and the admin endpoint take a POST without a body, as curl sends it.
#include "http/post.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "http/http_server.h"
#include "job/admin_server.h"
#include "support/gzip.h"
#include "support/raw_http.h"

namespace bikestream {
namespace {

using testing_support::RawHttpStatus;

class PostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HandlePost(
        server_, "/echo",
        [this](const httplib::Request&, const std::string& body, httplib::Response& response) {
          bodies_.push_back(body);
          response.status = 200;
        });
    auto bound = server_.Start({.host = "127.0.0.1", .port = 0}, "--test");
    ASSERT_TRUE(bound.ok()) << bound.status();
    port_ = std::stoi(bound->substr(bound->rfind(':') + 1));
  }
  HttpServer server_{ServerLimits{.max_body_bytes = 64}};
  int port_ = 0;
  std::vector<std::string> bodies_;
};

TEST_F(PostTest, APostWithoutABodyIsServedWithAnEmptyOne) {
  EXPECT_EQ(RawHttpStatus(port_, "POST /echo HTTP/1.1\r\nHost: test\r\n\r\n"), 200);
  ASSERT_EQ(bodies_.size(), 1u);
  EXPECT_EQ(bodies_[0], "");
}

TEST_F(PostTest, TheBodyIsReadWhenTheRequestDeclaresOne) {
  EXPECT_EQ(
      RawHttpStatus(port_, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"),
      200);
  EXPECT_EQ(RawHttpStatus(port_,
                          "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n0\r\n\r\n"),
            200);
  EXPECT_EQ(bodies_, (std::vector<std::string>{"hello", "abc"}));
}

TEST_F(PostTest, ABodyPastTheBoundIsRefusedHoweverItArrives) {
  // Declared: refused before it is read.
  EXPECT_EQ(RawHttpStatus(port_, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 65\r\n\r\n" +
                                     std::string(65, 'x')),
            413);
  // Chunked: no length to refuse it by, counted as it arrives.
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) chunked += "20\r\n" + std::string(32, 'x') + "\r\n";
  EXPECT_EQ(RawHttpStatus(port_, chunked + "0\r\n\r\n"), 413);
  // Compressed: 20 KB of zeros in fewer bytes than the bound, counted as they inflate.
  const std::string bomb = testing_support::Gzip(std::string(20'000, '\0'));
  ASSERT_LE(bomb.size(), 64u);
  EXPECT_EQ(RawHttpStatus(
                port_, fmt::format("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Encoding: gzip\r\n"
                                   "Content-Length: {}\r\n\r\n",
                                   bomb.size()) +
                           bomb),
            413);
  // At the bound, a body is taken.
  EXPECT_EQ(RawHttpStatus(port_, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 64\r\n\r\n" +
                                     std::string(64, 'y')),
            200);
  EXPECT_EQ(bodies_, (std::vector<std::string>{std::string(64, 'y')}));
}

// A body sent anywhere but to a handler that bounds it would be read whole by cpp-httplib
// (chunked, or inflating) before any handler runs: it is refused unread.
TEST_F(PostTest, ABodyNoHandlerBoundsIsRefusedUnread) {
  std::string chunked;
  for (int i = 0; i < 1000; ++i) chunked += "400\r\n" + std::string(1024, 'x') + "\r\n";
  chunked += "0\r\n\r\n";
  for (const char* method : {"PUT", "PATCH", "DELETE", "GET"}) {
    EXPECT_EQ(RawHttpStatus(
                  port_, std::string(method) +
                             " /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" +
                             chunked),
              400)
        << method;
  }
  EXPECT_EQ(
      RawHttpStatus(port_, "GET /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"),
      400);
  EXPECT_EQ(
      RawHttpStatus(
          port_,
          "POST /nowhere HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked),
      404);
  EXPECT_TRUE(bodies_.empty());
}

TEST(AdminServer, DrainsCancelsAndRunsOnAPostWithoutABody) {
  JobControl control;
  JobMetrics metrics;
  int runs = 0;
  auto admin = AdminServer::Start(
      {.address = "127.0.0.1:0"}, control, metrics, [] { return "{}"; }, [&] { ++runs; });
  ASSERT_TRUE(admin.ok()) << admin.status();
  const int port = std::stoi((*admin)->address().substr((*admin)->address().rfind(':') + 1));
  const std::string headers = " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bikestream-Admin: 1\r\n\r\n";
  EXPECT_EQ(RawHttpStatus(port, "POST /run" + headers), 202);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(RawHttpStatus(port, "POST /drain" + headers), 202);
  EXPECT_EQ(control.state(), JobState::kDraining);
  EXPECT_EQ(RawHttpStatus(port, "POST /cancel" + headers), 202);
  EXPECT_EQ(control.state(), JobState::kCancelled);
}

}  // namespace
}  // namespace bikestream
