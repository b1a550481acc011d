// The job's admin HTTP endpoint (loopback by default):
//   GET /healthz  200 "ok" while the job is alive and storing; 503 with why once it failed or
//                 while its commits keep failing
//   GET /metrics  Prometheus text: counters, in flight, state, publish-to-commit histogram
//   GET /job      the job as JSON
//   POST /drain   RUNNING → DRAINING (409 when not running)
//   POST /cancel  → CANCELLED (409 when already ended)
//   POST /run     runs `on_run` now, where the job has one (the feature scheduler's trigger)
// A request that names another job (`?job=ID`, as `bikestream jobs` sends) is refused with 404,
// so a command never reaches a job it was not meant for. Who may ask are the rules of
// http/access_rules.h: on loopback only through a loopback Host, never from a page of another
// origin, every POST with `X-Bikestream-Admin: 1` (kAdminActionHeader); with a token, every
// request but /healthz must carry `Authorization: Bearer TOKEN` (401 otherwise), and an
// address other than loopback requires one. Serves on its own threads until destroyed.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "job/job_control.h"

namespace bikestream {

class HttpServer;

// The header every POST to an admin endpoint carries, with the value 1 (`curl -X POST -H
// 'X-Bikestream-Admin: 1' http://127.0.0.1:PORT/drain`).
inline constexpr char kAdminActionHeader[] = "X-Bikestream-Admin";

struct AdminOptions {
  // "HOST:PORT" or "PORT" (host 127.0.0.1); port 0 picks a free one. Default: that.
  std::string address = "127.0.0.1:0";
  std::string job_id;  // The job served. Default: none (any ?job= is refused).
  std::string token;   // Required of requests when set; needed off loopback. Default: none.
};

class AdminServer {
 public:
  // Listens as `options` say; `job_json` describes the job for GET /job. The references must
  // outlive the server.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(const AdminOptions& options,
                                                            JobControl& control,
                                                            JobMetrics& metrics,
                                                            std::function<std::string()> job_json,
                                                            std::function<void()> on_run = nullptr);
  ~AdminServer();

  // "HOST:PORT" actually bound.
  const std::string& address() const { return address_; }

 private:
  AdminServer() = default;
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

}  // namespace bikestream
