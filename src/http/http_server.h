// The HTTP server behind a job's endpoints (admin, Pub/Sub push): cpp-httplib's, with limits
// that keep slow or greedy clients from blocking everyone else.
//
// cpp-httplib gives each connection a thread from a small pool and times out each read on its
// own, so a client that sends one header byte a second holds a thread for ever, and eight of
// them stop the server. Here each request must arrive whole within `request_deadline` (from
// its first byte; the handler's own time does not count), a client (by IP address) holds at
// most `max_connections_per_client` connections at once (beyond that: 503 and close), and the
// pool has room for several greedy clients besides the good ones. Each read and write also
// keeps cpp-httplib's own timeout (set_read_timeout, set_write_timeout).
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/time.h"
#include "http/listen_address.h"

namespace bikestream {

struct ServerLimits {
  TimestampMicros request_deadline = 10 * kMicrosPerSecond;  // Headers and body. Default: 10 s.
  std::size_t max_connections_per_client = 16;               // Default: 16.
  std::size_t threads = 64;                                  // Connections served at once. Default: 64.
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

  // Connections refused so far because their client held too many.
  std::size_t refused_connections() const;

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool TakeSlot(const std::string& client);
  void ReleaseSlot(const std::string& client);

  const ServerLimits limits_;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};  // listen_after_bind() has returned.
  mutable absl::Mutex mutex_;
  std::map<std::string, std::size_t> connections_ ABSL_GUARDED_BY(mutex_);  // Per client IP.
  std::size_t refused_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace bikestream
