#include "http/listen_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>

#include "absl/status/status.h"

namespace bikestream {
namespace {
constexpr const char* kLoopback = "127.0.0.1";
constexpr int kMaxPort = 65535;
}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text, bool port_alone_ok,
                                                 std::string_view flag, std::string_view example) {
  ListenAddress address{kLoopback, -1};
  std::string port_text;
  if (auto colon = text.rfind(':'); colon != std::string::npos) {
    address.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  } else if (port_alone_ok) {
    port_text = text;
  }
  try {
    address.port = std::stoi(port_text);
  } catch (const std::exception&) {
    address.port = -1;
  }
  if (address.port < 0 || address.port > kMaxPort || address.host.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("{} {}: expected {}, e.g. {} (port 0 picks one)", flag, text,
                    port_alone_ok ? "HOST:PORT or PORT" : "HOST:PORT", example));
  }
  return address;
}

bool IsLoopback(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // An address in 127.0.0.0/8 itself, not a name that starts like one (127.0.0.1.example.com).
  in_addr address{};
  return inet_pton(AF_INET, std::string(host).c_str(), &address) == 1 &&
         (ntohl(address.s_addr) >> 24) == 127;
}

absl::StatusOr<std::string> Bind(httplib::Server& server, const ListenAddress& address,
                                 std::string_view flag) {
  // cpp-httplib sets SO_REUSEPORT, with which a second job binds the same port and the kernel
  // splits the traffic between the two. SO_REUSEADDR alone still allows a restart while the
  // old connections linger in TIME_WAIT, and refuses a port another socket listens on.
  server.set_socket_options([](socket_t socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const int bound = address.port == 0
                        ? server.bind_to_any_port(address.host)
                        : (server.bind_to_port(address.host, address.port) ? address.port : -1);
  if (bound < 0) {
    return absl::UnavailableError(
        fmt::format("{} {}:{}: cannot listen there: the port is in use (another job? `bikestream "
                    "jobs list` shows "
                    "them) or the address is not this machine's; port 0 picks a free one",
                    flag, address.host, address.port));
  }
  return fmt::format("{}:{}", address.host, bound);
}

}  // namespace bikestream
