// What a URL from input can make the HTTP client do is bounded: http and https only (a feed
// once made bikestream speak gopher to a local service), replies up to a bound counted decoded
// (a 3 MB gzip bomb once reached 4.2 GB), a request abandoned as soon as its job stops, and no
// secret of a URL in its errors.
#include "http/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/gzip.h"
#include "support/listener.h"
#include "support/loopback_server.h"

namespace bikestream::http {
namespace {

using testing_support::Gzip;
using testing_support::Listener;
using testing_support::LoopbackServer;

class HttpClientTest : public ::testing::Test {
 protected:
  LoopbackServer server_{[this](httplib::Server& s) {
    s.Get("/small", [](const httplib::Request&, httplib::Response& r) {
      r.set_content(std::string(1000, 'a'), "text/plain");
    });
    s.Get("/large", [](const httplib::Request&, httplib::Response& r) {
      r.set_content(std::string(5000, 'a'), "text/plain");
    });
    // Chunked, so no Content-Length tells its size before it arrives.
    s.Get("/chunked", [](const httplib::Request&, httplib::Response& r) {
      r.set_chunked_content_provider("text/plain", [](std::size_t, httplib::DataSink& sink) {
        for (int i = 0; i < 10; ++i) sink.write(std::string(1000, 'c').data(), 1000);
        sink.done();
        return true;
      });
    });
    // 5 MB of zeros in a few KB: counted as it inflates.
    s.Get("/bomb", [bomb = Gzip(std::string(5'000'000, '\0'))](const httplib::Request&,
                                                               httplib::Response& r) {
      r.set_header("Content-Encoding", "gzip");
      r.set_content(bomb, "application/octet-stream");  // Not one httplib would compress again.
    });
    s.Get("/to-gopher", [this](const httplib::Request&, httplib::Response& r) {
      r.set_redirect(fmt::format("gopher://127.0.0.1:{}/_hello", listener_.port()));
    });
    s.Get("/to-small",
          [](const httplib::Request&, httplib::Response& r) { r.set_redirect("/small"); });
    s.Get("/slow", [this](const httplib::Request&, httplib::Response& r) {
      for (int i = 0; i < 300 && !release_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      r.set_content("late", "text/plain");
    });
  }};
  Listener listener_;
  std::atomic<bool> release_{false};

  void TearDown() override { release_ = true; }
};

TEST_F(HttpClientTest, ARepliesBodyPastTheBoundIsRefusedHoweverItArrives) {
  HttpClient feed({.timeout = std::chrono::seconds(10),
                   .max_reply_bytes = 4096,
                   .use = HttpClient::Use::kPublicFeed});
  auto small = feed.Send("GET", server_.url() + "/small", "", {});
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->body.size(), 1000u);
  for (const char* path : {"/large", "/chunked", "/bomb"}) {
    auto refused = feed.Send("GET", server_.url() + path, "", {});
    EXPECT_TRUE(absl::IsOutOfRange(refused.status())) << path << ": " << refused.status();
    EXPECT_NE(refused.status().message().find("the reply is larger than 4 KiB"), std::string::npos)
        << refused.status();
  }
  // The client is whole after a refusal.
  EXPECT_TRUE(feed.Send("GET", server_.url() + "/small", "", {}).ok());
}

TEST_F(HttpClientTest, OnlyHttpAndHttpsAreSpokenAndRedirectsStayOnThem) {
  HttpClient feed({.timeout = std::chrono::seconds(10),
                   .max_reply_bytes = 4096,
                   .use = HttpClient::Use::kPublicFeed});
  for (const std::string& url : {fmt::format("gopher://127.0.0.1:{}/_hello", listener_.port()),
                                 fmt::format("ftp://127.0.0.1:{}/x", listener_.port()),
                                 fmt::format("dict://127.0.0.1:{}/x", listener_.port()),
                                 std::string("file:///etc/passwd")}) {
    auto refused = feed.Send("GET", url, "", {});
    EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << url << ": " << refused.status();
    EXPECT_NE(refused.status().message().find("speaks http and https only"), std::string::npos)
        << refused.status();
  }
  auto redirected = feed.Send("GET", server_.url() + "/to-gopher", "", {});
  EXPECT_TRUE(absl::IsInvalidArgument(redirected.status())) << redirected.status();
  EXPECT_FALSE(listener_.Connected());  // Not a byte of gopher was spoken.
  auto followed = feed.Send("GET", server_.url() + "/to-small", "", {});
  ASSERT_TRUE(followed.ok()) << followed.status();
  EXPECT_EQ(followed->body.size(), 1000u);
}

TEST_F(HttpClientTest, ARequestIsAbandonedOnceItsJobStops) {
  std::atomic<bool> stopping{false};
  HttpClient feed({.timeout = std::chrono::seconds(60), .max_reply_bytes = 4096, .cancelled = [&] {
                     return stopping.load();
                   }});
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stopping = true;
  });
  auto abandoned = feed.Send("GET", server_.url() + "/slow", "", {});
  stopper.join();
  EXPECT_TRUE(absl::IsCancelled(abandoned.status())) << abandoned.status();
}

TEST_F(HttpClientTest, ErrorsNameTheUrlWithoutItsSecrets) {
  HttpClient api({.timeout = std::chrono::seconds(5), .max_reply_bytes = 4096});
  auto failed =
      api.Send("GET", "http://bike:Pl4ntedSecret@127.0.0.1:1/x?token=Pl4ntedToken&page=2", "", {});
  ASSERT_FALSE(failed.ok());
  const std::string message(failed.status().message());
  EXPECT_EQ(message.find("Pl4nted"), std::string::npos) << message;
  EXPECT_NE(message.find("http://bike:***@127.0.0.1:1/x?token=***&page=2"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace bikestream::http
