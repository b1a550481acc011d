#include "http/access_rules.h"

#include <fmt/format.h>
#include <httplib.h>

#include "http/bearer_token.h"
#include "http/listen_address.h"

namespace bikestream {

std::string_view HostName(std::string_view host) {
  if (host.starts_with("[")) return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.find(':'));
}

std::optional<Refusal> CheckAccess(const httplib::Request& request, const AccessRules& rules) {
  const std::string host = request.get_header_value("Host");
  if (rules.loopback && !IsLoopback(HostName(host))) {
    return Refusal{403, fmt::format("this endpoint answers to a loopback address only (open {})",
                                    rules.loopback_url)};
  }
  const std::string origin = request.get_header_value("Origin");
  if (!origin.empty() && origin != "http://" + host && origin != "https://" + host) {
    return Refusal{403, "this endpoint does not answer pages of other origins"};
  }
  if (!rules.token.empty() && (!rules.needs_token || rules.needs_token(request)) &&
      !CarriesBearerToken(request, rules.token)) {
    return Refusal{401, "this endpoint needs its token: Authorization: Bearer TOKEN"};
  }
  if (request.method == "POST" && !rules.action_header.empty() &&
      request.get_header_value(rules.action_header) != "1") {
    return Refusal{
        403, fmt::format("actions need the header {}: 1 (a page of another origin cannot send it)",
                         rules.action_header)};
  }
  return std::nullopt;
}

}  // namespace bikestream
