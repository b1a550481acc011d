#include "http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>

#include "common/mutex.h"

namespace bikestream {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Socket waits are the kernel's: they run on the steady clock, not on an injected one.
SteadyTime SteadyNow() { return std::chrono::steady_clock::now(); }

std::chrono::milliseconds Millis(time_t seconds, time_t micros) {
  return std::chrono::milliseconds(seconds * 1000 + micros / 1000);
}

// Waits up to `timeout` for `events` on `sock`; whether they came.
bool Poll(socket_t sock, short events, std::chrono::milliseconds timeout) {
  pollfd fd{.fd = sock, .events = events, .revents = 0};
  int ready = 0;
  do {
    ready = poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
  } while (ready < 0 && errno == EINTR);
  return ready > 0;
}

std::string AddressText(const sockaddr_storage& address, int& port) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text.data(), text.size());
    port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &v6.sin6_addr, text.data(), text.size());
    port = ntohs(v6.sin6_port);
  }
  return text.data();
}

std::string PeerAddress(socket_t sock, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getpeername(sock, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "";
  return AddressText(address, port);
}

// A connection as cpp-httplib reads it, with a deadline on receiving each request and a read
// buffer (cpp-httplib reads request lines a byte at a time).
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout)
      : sock_(sock), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  // Waits for the next request's first byte for up to `idle`, giving up early once `stopping`.
  bool AwaitRequest(std::chrono::milliseconds idle, const std::function<bool()>& stopping) {
    if (buffered() > 0) return true;
    constexpr std::chrono::milliseconds kSlice{100};
    auto waited = std::chrono::milliseconds(0);
    do {  // At least once: a keep-alive timeout of 0 still serves the connection's first request.
      if (Poll(sock_, POLLIN, std::min(kSlice, idle - waited))) return true;  // Poll takes < 0 as 0.
      waited += kSlice;
    } while (waited < idle && !stopping());
    return false;
  }
  void SetReadDeadline(SteadyTime deadline) { read_deadline_ = deadline; }

  bool is_readable() const override { return buffered() > 0 || WaitReadable(); }
  bool is_writable() const override { return Poll(sock_, POLLOUT, write_timeout_); }

  ssize_t read(char* out, size_t size) override {
    if (buffered() == 0) {
      if (!WaitReadable()) return -1;
      ssize_t got = 0;
      do {
        got = recv(sock_, buffer_.data(), buffer_.size(), 0);
      } while (got < 0 && errno == EINTR);
      if (got <= 0) return got;
      begin_ = 0;
      end_ = static_cast<std::size_t>(got);
    }
    const std::size_t n = std::min(size, buffered());
    std::memcpy(out, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* data, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t sent = 0;
    do {
      sent = send(sock_, data, size, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = PeerAddress(sock_, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0) ip = AddressText(address, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  std::size_t buffered() const { return end_ - begin_; }
  // Readable within the read timeout, and before the request's deadline.
  bool WaitReadable() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(read_deadline_ - SteadyNow());
    if (left.count() <= 0) return false;
    return Poll(sock_, POLLIN, std::min(left, read_timeout_));
  }

  const socket_t sock_;
  const std::chrono::milliseconds read_timeout_;
  const std::chrono::milliseconds write_timeout_;
  SteadyTime read_deadline_ = SteadyTime::max();
  std::array<char, 4096> buffer_{};
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

void CloseSocket(socket_t sock) {
  shutdown(sock, SHUT_RDWR);
  close(sock);
}

}  // namespace

HttpServer::HttpServer(ServerLimits limits) : limits_(limits) {
  new_task_queue = [threads = limits_.threads] { return new httplib::ThreadPool(threads); };
  // httplib writes a reply's headers and body apart: without this, the body waits for the
  // client's delayed ACK of the headers, 40 ms on Linux, on every request of a connection.
  set_tcp_nodelay(true);
}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::string> HttpServer::Start(const ListenAddress& address, std::string_view flag) {
  auto bound = Bind(*this, address, flag);
  if (!bound.ok()) return bound;
  listener_ = std::thread([this] {
    listen_after_bind();
    listener_done_ = true;
  });
  // stop() before the listener has begun would be lost, and the listener would run for ever.
  while (!is_running() && !listener_done_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (listener_done_) {
    listener_.join();
    return absl::UnavailableError(fmt::format("{} {}: the server stopped as it started", flag, *bound));
  }
  return bound;
}

void HttpServer::Stop() {
  if (!listener_.joinable()) return;
  // A listener that failed by itself has closed its socket already; stop() would close that
  // number again, by then perhaps another file's.
  if (!listener_done_) stop();
  listener_.join();
}

std::size_t HttpServer::refused_connections() const {
  MutexLock lock(&mutex_);
  return refused_;
}

bool HttpServer::TakeSlot(const std::string& client) {
  MutexLock lock(&mutex_);
  std::size_t& held = connections_[client];
  if (held >= limits_.max_connections_per_client) {
    ++refused_;
    if (held == 0) connections_.erase(client);
    return false;
  }
  ++held;
  return true;
}

void HttpServer::ReleaseSlot(const std::string& client) {
  MutexLock lock(&mutex_);
  if (--connections_[client] == 0) connections_.erase(client);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  int port = 0;
  const std::string client = PeerAddress(sock, port);
  if (!TakeSlot(client)) {
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
    send(sock, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    // Closing with the request unread would reset the connection, and the reset can overtake
    // the answer: end the sending side, take what is readable now, then close.
    shutdown(sock, SHUT_WR);
    std::array<char, 4096> unread{};
    while (recv(sock, unread.data(), unread.size(), MSG_DONTWAIT) > 0) {
    }
    close(sock);
    return false;
  }
  DeadlineStream stream(sock, Millis(read_timeout_sec_, read_timeout_usec_),
                        Millis(write_timeout_sec_, write_timeout_usec_));
  const auto request_deadline = std::chrono::microseconds(limits_.request_deadline);
  const auto stopping = [this] { return svr_sock_ == INVALID_SOCKET; };
  bool served = false;
  for (std::size_t left = keep_alive_max_count_; left > 0 && !stopping(); --left) {
    if (!stream.AwaitRequest(std::chrono::seconds(keep_alive_timeout_sec_), stopping)) break;
    stream.SetReadDeadline(SteadyNow() + request_deadline);
    bool connection_closed = false;
    served = process_request(stream, /*close_connection=*/left == 1, connection_closed, nullptr);
    if (!served || connection_closed) break;
  }
  CloseSocket(sock);
  ReleaseSlot(client);
  return served;
}

}  // namespace bikestream
