// `bikestream console`'s HTTP server: the page and its assets, the JSON API under /api/ (the
// warehouse's, console_api.h; the jobs', job_watcher.h).
//
// Who may use it: on loopback (the default) anyone on this machine, but only through a loopback
// Host header, so that a web page cannot reach it by pointing a name of its own at 127.0.0.1 (DNS
// rebinding). On any other address a token is required, and every /api/ request must carry it as
// `Authorization: Bearer TOKEN` (the page asks for it once). State-changing actions are POSTs that
// must carry `X-Bikestream-Console: 1` and, when the browser sends an Origin, this server's own:
// a page from another origin can send neither without the browser asking first (a CORS
// preflight), which this server never allows. Each /api/ request that reads the warehouse is
// answered within seconds, 503 while it cannot be reached (warehouse_gate.h).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "console/console_api.h"
#include "console/job_watcher.h"
#include "console/warehouse_gate.h"

namespace bikestream {

class HttpServer;

struct ConsoleServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one. Default: that.
  std::string token;          // Required of /api/ requests when set; needed off loopback.
  WarehouseGateOptions gate;  // How an unreachable warehouse is answered.
};

class ConsoleServer {
 public:
  // Serves on threads of its own until destroyed; `api` and `jobs` must outlive it.
  static absl::StatusOr<std::unique_ptr<ConsoleServer>> Start(const ConsoleServerOptions& options,
                                                              ConsoleApi& api, JobWatcher& jobs);
  ~ConsoleServer();

  const std::string& address() const { return address_; }  // "HOST:PORT" as bound.

 private:
  ConsoleServer() = default;
  std::unique_ptr<WarehouseGate> gate_;  // Outlives the server, whose handlers use it.
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

}  // namespace bikestream
