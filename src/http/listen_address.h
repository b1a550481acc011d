// Where a job's HTTP endpoint listens (the admin endpoint, the push endpoint), parsed from a
// flag and bound in one place.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace bikestream {

struct ListenAddress {
  std::string host;
  int port = 0;  // 0 picks a free port.
};

// Parses HOST:PORT, or with `port_alone_ok` also PORT (on 127.0.0.1). The error names `flag`
// and shows `example`.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text, bool port_alone_ok,
                                                 std::string_view flag, std::string_view example);

// Whether `host` names this machine's loopback interface only: localhost, ::1, or an IPv4
// address in 127.0.0.0/8 (not a name that merely starts with 127.).
bool IsLoopback(std::string_view host);

// Binds `server` to `address`; returns "HOST:PORT" as bound (the chosen port for port 0). A
// port another socket listens on is refused (kUnavailable), never shared.
absl::StatusOr<std::string> Bind(httplib::Server& server, const ListenAddress& address,
                                 std::string_view flag);

}  // namespace bikestream
