// An httplib server on a free loopback port, serving on its own thread for the object's life:
// the stand-ins of the tests (token endpoint, APIs, proxies) are built on it.
#pragma once

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace bikestream::testing_support {

class LoopbackServer {
 public:
  // `routes` registers the handlers before the server starts.
  explicit LoopbackServer(const std::function<void(httplib::Server&)>& routes) {
    server_.set_tcp_nodelay(
        true);  // A reply is headers then body: no 40 ms wait for an ACK between.
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  std::string host() const { return fmt::format("127.0.0.1:{}", port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace bikestream::testing_support
