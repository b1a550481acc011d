#include "job/admin_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include "absl/status/status.h"
#include "http/listen_address.h"
#include "http/post.h"

namespace bikestream {
namespace {

void StateReply(httplib::Response& response, bool changed, JobState state) {
  response.status = changed ? 202 : 409;
  response.set_content(fmt::format("{{\"state\":\"{}\"}}\n", JobStateName(state)), "application/json");
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    const std::string& address, JobControl& control, JobMetrics& metrics,
    std::function<std::string()> job_json, std::function<void()> on_run) {
  auto listen = ParseListenAddress(address, /*port_alone_ok=*/true, "--admin", "127.0.0.1:8081");
  if (!listen.ok()) return listen.status();

  std::unique_ptr<AdminServer> admin(new AdminServer());
  admin->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *admin->server_;
  server.Get("/healthz", [&control, &metrics](const httplib::Request&, httplib::Response& response) {
    const std::string unhealthy = Unhealthy(metrics, control.state());
    response.status = unhealthy.empty() ? 200 : 503;
    response.set_content(unhealthy.empty() ? "ok\n" : unhealthy + "\n", "text/plain");
  });
  server.Get("/metrics", [&control, &metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(PrometheusText(metrics, control.state()), "text/plain; version=0.0.4");
  });
  server.Get("/job", [job_json = std::move(job_json)](const httplib::Request&, httplib::Response& response) {
    response.set_content(job_json(), "application/json");
  });
  HandlePost(server, "/drain", [&control](const httplib::Request&, const std::string&, httplib::Response& response) {
    const bool changed = control.RequestDrain();
    StateReply(response, changed, control.state());
  });
  HandlePost(server, "/cancel", [&control](const httplib::Request&, const std::string&, httplib::Response& response) {
    const bool changed = control.RequestCancel();
    StateReply(response, changed, control.state());
  });

  if (on_run) {
    HandlePost(server, "/run", [on_run = std::move(on_run)](const httplib::Request&, const std::string&,
                                                            httplib::Response& response) {
      on_run();
      response.status = 202;
      response.set_content("{\"run\":\"requested\"}\n", "application/json");
    });
  }

  auto bound = Bind(server, *listen, "--admin");
  if (!bound.ok()) return bound.status();
  admin->address_ = *bound;
  admin->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return admin;
}

AdminServer::~AdminServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace bikestream
