#include "job/admin_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include "absl/status/status.h"

namespace bikestream {
namespace {

constexpr const char* kDefaultHost = "127.0.0.1";

void StateReply(httplib::Response& response, bool changed, JobState state) {
  response.status = changed ? 202 : 409;
  response.set_content(fmt::format("{{\"state\":\"{}\"}}\n", JobStateName(state)), "application/json");
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    const std::string& address, JobControl& control, JobMetrics& metrics,
    std::function<std::string()> job_json, std::function<void()> on_run) {
  std::string host = kDefaultHost;
  std::string port_text = address;
  if (auto colon = address.rfind(':'); colon != std::string::npos) {
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  int port = -1;
  try {
    port = std::stoi(port_text);
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535 || host.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "--admin {}: expected HOST:PORT or PORT, e.g. 127.0.0.1:8081 (port 0 picks one)", address));
  }

  std::unique_ptr<AdminServer> admin(new AdminServer());
  admin->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *admin->server_;
  server.Get("/healthz", [&control](const httplib::Request&, httplib::Response& response) {
    const bool failed = control.state() == JobState::kFailed;
    response.status = failed ? 503 : 200;
    response.set_content(failed ? "failed\n" : "ok\n", "text/plain");
  });
  server.Get("/metrics", [&control, &metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(PrometheusText(metrics, control.state()), "text/plain; version=0.0.4");
  });
  server.Get("/job", [job_json](const httplib::Request&, httplib::Response& response) {
    response.set_content(job_json(), "application/json");
  });
  server.Post("/drain", [&control](const httplib::Request&, httplib::Response& response) {
    const bool changed = control.RequestDrain();
    StateReply(response, changed, control.state());
  });
  server.Post("/cancel", [&control](const httplib::Request&, httplib::Response& response) {
    const bool changed = control.RequestCancel();
    StateReply(response, changed, control.state());
  });

  if (on_run) {
    server.Post("/run", [on_run](const httplib::Request&, httplib::Response& response) {
      on_run();
      response.status = 202;
      response.set_content("{\"run\":\"requested\"}\n", "application/json");
    });
  }

  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return absl::UnavailableError(fmt::format(
        "--admin {}:{}: cannot listen there (is the port in use? port 0 picks a free one)", host, port));
  }
  admin->address_ = fmt::format("{}:{}", host, bound);
  admin->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return admin;
}

AdminServer::~AdminServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace bikestream
