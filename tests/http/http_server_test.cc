// Slow and greedy clients cannot block the HTTP server of a job's endpoints.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <vector>

#include "support/raw_http.h"

namespace bikestream {
namespace {

using testing_support::RawHttpStatus;

// A connected socket to 127.0.0.1:`port`, closed at the end of its scope.
class Connection {
 public:
  explicit Connection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Connection() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) > 0;
  }
  // Whether the server has closed the connection (or answered) within `wait`.
  bool ClosedOrAnsweredWithin(std::chrono::milliseconds wait) {
    pollfd fd{.fd = fd_, .events = POLLIN, .revents = 0};
    return poll(&fd, 1, static_cast<int>(wait.count())) > 0;
  }

 private:
  int fd_;
  bool connected_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(ServerLimits limits) {
    server_ = std::make_unique<HttpServer>(limits);
    server_->set_read_timeout(std::chrono::seconds(5));
    server_->Get("/ok", [this](const httplib::Request&, httplib::Response& response) {
      ++served_;
      response.set_content("ok", "text/plain");
    });
    server_->Get("/hold", [this](const httplib::Request&, httplib::Response& response) {
      held_.fetch_add(1);
      release_.wait();
      response.set_content("released", "text/plain");
    });
    auto bound = server_->Start({.host = "127.0.0.1", .port = 0}, "--test");
    ASSERT_TRUE(bound.ok()) << bound.status();
    port_ = std::stoi(bound->substr(bound->rfind(':') + 1));
  }
  void TearDown() override {
    released_.set_value();
    server_.reset();
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::atomic<int> served_{0};
  std::atomic<int> held_{0};
  std::promise<void> released_;
  std::shared_future<void> release_ = released_.get_future().share();
};

// The statuses of `good` requests sent while `slow` clients each trickle a request that never
// ends, a byte every 200 ms: well within every read timeout.
std::vector<int> ServedBesideTricklers(int port, int slow, int good) {
  std::vector<std::unique_ptr<Connection>> tricklers;
  for (int i = 0; i < slow; ++i) {
    tricklers.push_back(std::make_unique<Connection>(port));
    EXPECT_TRUE(tricklers.back()->connected());
    EXPECT_TRUE(tricklers.back()->Send("GET /ok HTTP/1.1\r\nX-Slow: "));
  }
  std::atomic<bool> done{false};
  std::thread trickler([&] {
    while (!done) {
      for (auto& connection : tricklers) connection->Send("s");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  std::vector<int> statuses;
  for (int i = 0; i < good; ++i)
    statuses.push_back(RawHttpStatus(port, "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n"));
  done = true;
  trickler.join();
  return statuses;
}

TEST_F(HttpServerTest, GoodRequestsAreServedWhileSlowClientsTrickleTheirHeaders) {
  Start({});
  // More trickling clients than cpp-httplib's own pool has threads (8 on this machine).
  EXPECT_EQ(ServedBesideTricklers(port_, 12, 3), (std::vector<int>{200, 200, 200}));
  EXPECT_EQ(served_, 3);
}

TEST_F(HttpServerTest, ARequestThatDoesNotArriveWholeWithinTheDeadlineIsCutOff) {
  Start({.request_deadline = 1 * kMicrosPerSecond});
  Connection trickle(port_);
  ASSERT_TRUE(trickle.connected());
  // One byte every 100 ms keeps every single read within its 5 s timeout; the request as a
  // whole (60 bytes: 6 s) does not make the deadline.
  const std::string request =
      "GET /ok HTTP/1.1\r\nHost: t\r\nX-Padding: " + std::string(20, 'p') + "\r\n\r\n";
  bool cut_off = false;
  for (char byte : request) {
    if (!trickle.Send(std::string_view(&byte, 1)) ||
        trickle.ClosedOrAnsweredWithin(std::chrono::milliseconds(100))) {
      cut_off = true;
      break;
    }
  }
  EXPECT_TRUE(cut_off);
  EXPECT_EQ(served_, 0);
}

// Every process on this machine is 127.0.0.1: one of them holding every thread with requests
// it never finishes must not deny the others. The connections that waited longest on their
// client make room for each newcomer.
TEST_F(HttpServerTest, SlowConnectionsOfOneAddressDoNotDenyItsOtherClients) {
  Start({.request_deadline = 60 * kMicrosPerSecond, .threads = 4});
  EXPECT_EQ(ServedBesideTricklers(port_, 20, 3), (std::vector<int>{200, 200, 200}));
  EXPECT_EQ(served_, 3);
  EXPECT_GE(server_->evicted_connections(), 3u);
}

// A connection whose request is being handled is never closed to make room: a newcomer waits
// for a thread instead.
TEST_F(HttpServerTest, RequestsBeingHandledAreNeverEvicted) {
  Start({.threads = 2});
  auto hold = [this] {
    return std::async(std::launch::async, [this] {
      return RawHttpStatus(port_, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    });
  };
  auto first = hold();
  auto second = hold();
  for (int i = 0; i < 500 && held_ < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(held_, 2);
  auto third = std::async(std::launch::async, [this] {
    return RawHttpStatus(port_, "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n");
  });
  // The newcomer waits; nothing was closed for it.
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EXPECT_EQ(server_->evicted_connections(), 0u);
  released_.set_value();
  released_ = std::promise<void>();  // TearDown sets it again.
  EXPECT_EQ(first.get(), 200);
  EXPECT_EQ(second.get(), 200);
  EXPECT_EQ(third.get(), 200);
}

}  // namespace
}  // namespace bikestream
