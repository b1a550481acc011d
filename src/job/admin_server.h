// The job's admin HTTP endpoint (loopback by default):
//   GET /healthz  200 "ok" while the job is alive and storing; 503 with why once it failed or
//                 while its commits keep failing
//   GET /metrics  Prometheus text: counters, in flight, state, publish-to-commit histogram
//   GET /job      the job as JSON
//   POST /drain   RUNNING → DRAINING (409 when not running)
//   POST /cancel  → CANCELLED (409 when already ended)
//   POST /run     runs `on_run` now, where the job has one (the feature scheduler's trigger)
// Serves on its own threads until destroyed. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "job/job_control.h"

namespace httplib {
class Server;
}

namespace bikestream {

class AdminServer {
 public:
  // Listens on `address` ("HOST:PORT" or "PORT", host defaulting to 127.0.0.1; port 0 picks a
  // free one). `job_json` describes the job for GET /job. The references must outlive the
  // server.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(const std::string& address,
                                                            JobControl& control,
                                                            JobMetrics& metrics,
                                                            std::function<std::string()> job_json,
                                                            std::function<void()> on_run = nullptr);
  ~AdminServer();

  // "HOST:PORT" actually bound.
  const std::string& address() const { return address_; }

 private:
  AdminServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

}  // namespace bikestream
