// Who may use an endpoint that a person steers jobs by — a job's admin endpoint, the console.
// One set of rules for both, checked before any handler runs:
// - On loopback (the default), only a request whose Host header names a loopback address is
//   answered: a web page cannot reach the endpoint by pointing a name of its own at 127.0.0.1
//   (DNS rebinding), since its requests carry that name.
// - A request that carries an Origin (a browser's, for a page's fetch) must carry this
//   server's own: a page of another origin is refused, whatever it asks.
// - With a token, the requests it guards must carry `Authorization: Bearer TOKEN`; off
//   loopback a token is required (the servers refuse to start without one).
// - A state change (every POST, where the server names an action header) must carry `HEADER:
//   1`, a header of the server's own: a page
//   of another origin cannot send it without the browser asking first (a CORS preflight),
//   which these servers never allow, nor send a POST without it that would be obeyed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace httplib {
struct Request;
}  // namespace httplib

namespace bikestream {

struct AccessRules {
  bool loopback = true;  // The server listens on a loopback address.
  std::string token;     // "" requires none.
  // The requests the token guards. Default: all.
  std::function<bool(const httplib::Request&)> needs_token;
  // e.g. "X-Bikestream-Admin": required of every POST. "" where POSTs only read (the serving
  // endpoint's, whose answers a page of another origin cannot read).
  std::string action_header;
  std::string loopback_url;  // How a person reaches it, for the refusal: "http://127.0.0.1:PORT/".
};

struct Refusal {
  int status;  // 401 (no token) or 403.
  std::string why;
};

// nullopt when `request` may proceed; else how to refuse it.
std::optional<Refusal> CheckAccess(const httplib::Request& request, const AccessRules& rules);

// The host part of a Host header: "127.0.0.1:8080" → "127.0.0.1", "[::1]:8080" → "[::1]".
std::string_view HostName(std::string_view host);

}  // namespace bikestream
