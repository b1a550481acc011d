// The HTTP server behind a job's endpoints (admin, Pub/Sub push) and the console:
// cpp-httplib's, with limits that keep slow or greedy clients from blocking everyone else.
//
// cpp-httplib gives each connection a thread from a pool and times out each read on its own,
// so a client that sends one header byte a second holds a thread for ever, and a pool's worth
// of them stop the server. Here:
// - each request must arrive whole within `request_deadline` (from its first byte; the
//   handler's own time does not count);
// - when every thread is taken and another connection arrives, the connection that has waited
//   longest on its client (idle between requests, or sending its request, or not reading its
//   answer) is closed to make room: a slow client only ever delays itself, and the many clients
//   of one address — every process on this machine is 127.0.0.1 — never deny each other;
// - a request's body is read only by a POST handler of HandlePost (post.h), which refuses it
//   (413) past `max_body_bytes`, counted as it arrives and after any Content-Encoding is undone,
//   chunked or not; a body sent with any other request is refused before it is read (400 or
//   404), and no request is read past twice `max_body_bytes` on the wire, whatever it claims.
// Each read and write also keeps cpp-httplib's own timeout (set_read_timeout,
// set_write_timeout).
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/limits.h"
#include "common/time.h"
#include "http/listen_address.h"

namespace bikestream {

namespace http_server_internal {
class Connections;
}  // namespace http_server_internal

struct ServerLimits {
  TimestampMicros request_deadline = 10 * kMicrosPerSecond;  // Headers and body. Default: 10 s.
  std::size_t threads = 64;  // Connections served at once. Default: 64.
  // A request's body, decoded. Default: what an endpoint that takes no body needs.
  std::size_t max_body_bytes = limits::kControlRequest;
};

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(ServerLimits limits = {});
  ~HttpServer() override;
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `address` (errors name `flag`) and serves on a thread of its own; returns
  // "HOST:PORT" as bound. Register the handlers first.
  absl::StatusOr<std::string> Start(const ListenAddress& address, std::string_view flag);
  // Stops taking connections and waits for those in flight. Idempotent.
  void Stop();

  // As cpp-httplib's, behind the server's own check that a request carries a body only where a
  // bounded handler reads it. (Hides httplib::Server's.)
  httplib::Server& set_pre_routing_handler(HandlerWithResponse handler);

  const ServerLimits& limits() const { return limits_; }
  // Connections closed so far to make room for others, having waited longest on their client.
  std::size_t evicted_connections() const;

 private:
  bool process_and_close_socket(socket_t sock) override;

  const ServerLimits limits_;
  std::unique_ptr<http_server_internal::Connections> connections_;
  HandlerWithResponse pre_routing_;  // The user's, run after the server's own check.
  std::thread listener_;
  std::atomic<bool> listener_done_{false};  // listen_after_bind() has returned.
};

}  // namespace bikestream
