#include "job/admin_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include "absl/status/status.h"
#include "http/access_rules.h"
#include "http/http_server.h"
#include "http/listen_address.h"
#include "http/post.h"

namespace bikestream {
namespace {

// Answers a request that is not for this endpoint: one for another job, or without the token.
httplib::Server::HandlerResponse Refuse(httplib::Response& response, int status,
                                        const std::string& why) {
  response.status = status;
  response.set_content(why + "\n", "text/plain");
  return httplib::Server::HandlerResponse::Handled;
}

void StateReply(httplib::Response& response, bool changed, JobState state) {
  response.status = changed ? 202 : 409;
  response.set_content(fmt::format("{{\"state\":\"{}\"}}\n", JobStateName(state)),
                       "application/json");
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    const AdminOptions& options, JobControl& control, JobMetrics& metrics,
    std::function<std::string()> job_json, std::function<void()> on_run) {
  auto listen =
      ParseListenAddress(options.address, /*port_alone_ok=*/true, "--admin", "127.0.0.1:8081");
  if (!listen.ok()) return listen.status();
  if (!IsLoopback(listen->host) && options.token.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "--admin {}: drain and cancel would be open to the network; set --admin-token (or "
        "$BIKESTREAM_ADMIN_TOKEN) to require it of every request, or listen on 127.0.0.1",
        options.address));
  }

  std::unique_ptr<AdminServer> admin(new AdminServer());
  // Slow clients get 10 s to send a request: drain and cancel must stay reachable.
  admin->server_ =
      std::make_unique<HttpServer>(ServerLimits{.request_deadline = 10 * kMicrosPerSecond});
  HttpServer& server = *admin->server_;
  AccessRules rules{
      .loopback = IsLoopback(listen->host),
      .token = options.token,
      .needs_token = [](const httplib::Request& request) { return request.path != "/healthz"; },
      .action_header = kAdminActionHeader,
      .loopback_url = "http://127.0.0.1:PORT/job"};
  server.set_pre_routing_handler([job_id = options.job_id, rules = std::move(rules)](
                                     const httplib::Request& request, httplib::Response& response) {
    // Who may ask first: who may not learns nothing, not even which job this is.
    if (auto refusal = CheckAccess(request, rules))
      return Refuse(response, refusal->status, refusal->why);
    if (request.has_param("job") && request.get_param_value("job") != job_id) {
      return Refuse(
          response, 404,
          fmt::format("this endpoint serves job {}, not {}", job_id.empty() ? "(none)" : job_id,
                      request.get_param_value("job")));
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Get("/healthz",
             [&control, &metrics](const httplib::Request&, httplib::Response& response) {
               const std::string unhealthy = Unhealthy(metrics, control.state());
               response.status = unhealthy.empty() ? 200 : 503;
               response.set_content(unhealthy.empty() ? "ok\n" : unhealthy + "\n", "text/plain");
             });
  server.Get(
      "/metrics", [&control, &metrics](const httplib::Request&, httplib::Response& response) {
        response.set_content(PrometheusText(metrics, control.state()), "text/plain; version=0.0.4");
      });
  server.Get("/job", [job_json = std::move(job_json)](const httplib::Request&,
                                                      httplib::Response& response) {
    response.set_content(job_json(), "application/json");
  });
  HandlePost(server, "/drain",
             [&control](const httplib::Request&, const std::string&, httplib::Response& response) {
               const bool changed = control.RequestDrain();
               StateReply(response, changed, control.state());
             });
  HandlePost(server, "/cancel",
             [&control](const httplib::Request&, const std::string&, httplib::Response& response) {
               const bool changed = control.RequestCancel();
               StateReply(response, changed, control.state());
             });

  if (on_run) {
    HandlePost(server, "/run",
               [on_run = std::move(on_run)](const httplib::Request&, const std::string&,
                                            httplib::Response& response) {
                 on_run();
                 response.status = 202;
                 response.set_content("{\"run\":\"requested\"}\n", "application/json");
               });
  }

  auto bound = server.Start(*listen, "--admin");
  if (!bound.ok()) return bound.status();
  admin->address_ = *bound;
  return admin;
}

AdminServer::~AdminServer() = default;

}  // namespace bikestream
