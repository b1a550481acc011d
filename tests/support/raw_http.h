// Sends HTTP requests byte for byte, as clients other than cpp-httplib's write them (curl's
// POST without a body has no Content-Length), and returns the status code of the reply.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace bikestream::testing_support {

// The status of the reply to `request` sent to 127.0.0.1:`port`; -1 when none came.
inline int RawHttpStatus(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  int status = -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char reply[256] = {};
    if (recv(fd, reply, sizeof reply - 1, 0) > 12) status = std::stoi(std::string(reply + 9, 3));
  }
  close(fd);
  return status;
}

}  // namespace bikestream::testing_support
