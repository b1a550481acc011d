#include "console/console_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include "common/json_text.h"
#include "console/console_assets.h"
#include "http/access_rules.h"
#include "http/http_server.h"
#include "http/listen_address.h"
#include "http/post.h"

namespace bikestream {
namespace {

// The page loads nothing from elsewhere and cannot be framed; the browser enforces both.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src "
    "'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

// Not "application/json" alone: cpp-httplib would compress it with brotli at its highest quality
// (slower than the query behind it) for a browser that accepts br; on loopback it is not worth it.
constexpr char kJson[] = "application/json; charset=utf-8";

httplib::Server::HandlerResponse Refuse(httplib::Response& response, int status,
                                        const std::string& why) {
  response.status = status;
  response.set_content(fmt::format("{{\"error\":{}}}", JsonQuote(why)), kJson);
  return httplib::Server::HandlerResponse::Handled;
}

ApiParams ParamsOf(const httplib::Request& request) {
  ApiParams params;
  for (const auto& [name, value] : request.params) params.emplace(name, value);
  return params;
}

void Reply(httplib::Response& response, const ApiReply& reply) {
  response.status = reply.status;
  response.set_header("Cache-Control", "no-store");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_content(reply.body, kJson);
}

void ServeAssets(HttpServer& server) {
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    server.Get(std::string(asset.path), [asset](const httplib::Request&,
                                                httplib::Response& response) {
      response.set_header("Content-Security-Policy", kContentSecurityPolicy);
      response.set_header("Cache-Control", "no-cache");
      response.set_header("X-Content-Type-Options", "nosniff");
      response.set_content(asset.body.data(), asset.body.size(), std::string(asset.content_type));
    });
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(
    const ConsoleServerOptions& options, ConsoleApi& api, JobWatcher& jobs) {
  auto listen =
      ParseListenAddress(options.listen, /*port_alone_ok=*/true, "--listen", "127.0.0.1:8080");
  if (!listen.ok()) return listen.status();
  const bool loopback = IsLoopback(listen->host);
  if (!loopback && options.token.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("--listen {}: the console (its data, drain, cancel and replay) would be open "
                    "to the network; set "
                    "--token (or $BIKESTREAM_CONSOLE_TOKEN) to require it of every request, or "
                    "listen on 127.0.0.1",
                    options.listen));
  }
  std::unique_ptr<ConsoleServer> console(new ConsoleServer());
  console->gate_ = std::make_unique<WarehouseGate>(options.gate);
  console->server_ = std::make_unique<HttpServer>();
  HttpServer& server = *console->server_;
  AccessRules rules{
      .loopback = loopback,
      .token = options.token,
      .needs_token =
          [](const httplib::Request& request) { return request.path.starts_with("/api/"); },
      .action_header = "X-Bikestream-Console",
      .loopback_url = "http://127.0.0.1:PORT/"};
  server.set_pre_routing_handler(
      [rules = std::move(rules)](const httplib::Request& request, httplib::Response& response) {
        if (auto refusal = CheckAccess(request, rules))
          return Refuse(response, refusal->status, refusal->why);
        return httplib::Server::HandlerResponse::Unhandled;
      });
  ServeAssets(server);
  server.Get("/api/jobs", [&jobs](const httplib::Request&, httplib::Response& response) {
    Reply(response, jobs.Jobs());
  });
  HandlePost(
      server, R"(/api/jobs/(drain|cancel))",
      [&jobs](const httplib::Request& request, const std::string&, httplib::Response& response) {
        Reply(response, jobs.Act(request.get_param_value("job"), request.matches[1].str()));
      });
  WarehouseGate& gate = *console->gate_;
  // The calls get copies: one that outlives its request's wait (warehouse_gate.h) must not read
  // the request.
  server.Get(R"(/api/(.+))",
             [&api, &gate](const httplib::Request& request, httplib::Response& response) {
               auto call = [&api, path = request.matches[1].str(), params = ParamsOf(request)] {
                 return api.Get(path, params);
               };
               Reply(response, gate.Run(std::move(call), kReadAnswersWithin));
             });
  HandlePost(server, R"(/api/(.+))",
             [&api, &gate](const httplib::Request& request, const std::string&,
                           httplib::Response& response) {
               auto call = [&api, path = request.matches[1].str(), params = ParamsOf(request)] {
                 return api.Post(path, params);
               };
               Reply(response, gate.Run(std::move(call), kActionAnswersWithin));
             });
  auto address = server.Start(*listen, "--listen");
  if (!address.ok()) return address.status();
  console->address_ = *address;
  return console;
}

ConsoleServer::~ConsoleServer() {
  if (server_) server_->Stop();
}

}  // namespace bikestream
