// A TCP port on loopback that nobody listens on now: where a test or a benchmark starts a
// server of its own.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace bikestream::testing_support {

inline int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  // Port 0 would start a server on a port nobody knows: stop here, saying why.
  if (!bound) {
    std::perror("no free loopback port");
    std::abort();
  }
  return ntohs(address.sin_port);
}

}  // namespace bikestream::testing_support
