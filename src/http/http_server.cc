#include "http/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>

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

}  // namespace

namespace http_server_internal {

// The connections being served: since when each has waited for its client (for its next
// request, for the rest of it), and whether it waits right now. Whenever connections wait for a
// thread, the one that has waited longest for its client, of those waiting for it now, is
// closed to make room; one whose request is being handled never is.
class Connections {
 public:
  explicit Connections(std::size_t threads) : threads_(threads) {}

  // A connection was accepted: it takes a thread, or waits for one.
  void Accepted() {
    MutexLock lock(&mutex_);
    ++open_;
    MakeRoom();
  }
  // The connection's thread waits for its next request.
  void RequestBegins(socket_t sock) {
    MutexLock lock(&mutex_);
    Connection& connection = connections_[sock];
    connection.since = SteadyNow();
  }
  // Around each wait for the client to send (more of) a request.
  void Waiting(socket_t sock, bool waiting) {
    MutexLock lock(&mutex_);
    connections_[sock].waiting = waiting;
    if (waiting) MakeRoom();
  }
  // Before the connection's socket is closed.
  void Ended(socket_t sock) {
    MutexLock lock(&mutex_);
    if (auto it = connections_.find(sock); it != connections_.end()) {
      if (it->second.evicted) --evicting_;
      connections_.erase(it);
    }
    --open_;
  }
  std::size_t evicted() const {
    MutexLock lock(&mutex_);
    return evicted_;
  }

 private:
  struct Connection {
    SteadyTime since = SteadyNow();
    bool waiting = false;
    bool evicted = false;
  };

  // While more connections are open than there are threads (counting those being closed as
  // gone), closes the one that has waited longest for its client.
  void MakeRoom() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    while (open_ - evicting_ > threads_) {
      auto longest = connections_.end();
      for (auto it = connections_.begin(); it != connections_.end(); ++it) {
        if (it->second.waiting && !it->second.evicted &&
            (longest == connections_.end() || it->second.since < longest->second.since)) {
          longest = it;
        }
      }
      if (longest == connections_.end()) return;
      // Its socket is still open: Ended() takes it out of connections_, under this lock, before
      // it is closed. Its thread wakes from its wait and ends the connection.
      shutdown(longest->first, SHUT_RDWR);
      longest->second.evicted = true;
      ++evicting_;
      ++evicted_;
    }
  }

  const std::size_t threads_;
  mutable absl::Mutex mutex_;
  std::size_t open_ ABSL_GUARDED_BY(mutex_) = 0;      // Accepted and not yet ended.
  std::size_t evicting_ ABSL_GUARDED_BY(mutex_) = 0;  // Closed to make room, not yet ended.
  std::map<socket_t, Connection> connections_ ABSL_GUARDED_BY(mutex_);  // Those with a thread.
  std::size_t evicted_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace http_server_internal

namespace {

using http_server_internal::Connections;

// Headers, and the framing of a chunked body: what a request may hold besides its body.
constexpr std::size_t kMaxRequestOverhead = 64 * 1024;

// Whether `request` carries a body, which cpp-httplib would read whole (and decode) before any
// handler of its route runs, unless a content reader takes it.
bool CarriesBody(const httplib::Request& request) {
  const std::string length = request.get_header_value("Content-Length");
  return request.has_header("Transfer-Encoding") || (!length.empty() && length != "0");
}

httplib::Server::HandlerResponse RefuseUnread(httplib::Response& response, int status,
                                              const std::string& why) {
  response.status = status;
  response.set_header("Connection", "close");  // The body is never read: the connection ends.
  response.set_content(why + "\n", "text/plain");
  return httplib::Server::HandlerResponse::Handled;
}

// cpp-httplib's thread pool, telling the connections of each one it accepts.
class EvictingPool final : public httplib::TaskQueue {
 public:
  EvictingPool(std::size_t threads, Connections& connections)
      : pool_(threads), connections_(connections) {}
  void enqueue(std::function<void()> serve) override {
    connections_.Accepted();
    pool_.enqueue(std::move(serve));
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  Connections& connections_;
};

// A connection as cpp-httplib reads it, with a deadline on receiving each request and a read
// buffer (cpp-httplib reads request lines a byte at a time). Its waits for the client are told
// to the connections, which may end them to make room.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, std::chrono::milliseconds read_timeout,
                 std::chrono::milliseconds write_timeout, std::size_t max_request_bytes,
                 Connections& connections)
      : sock_(sock),
        read_timeout_(read_timeout),
        write_timeout_(write_timeout),
        max_request_bytes_(max_request_bytes),
        connections_(connections) {}

  // Waits for the next request's first byte for up to `idle`, giving up early once `stopping`.
  bool AwaitRequest(std::chrono::milliseconds idle, const std::function<bool()>& stopping) {
    connections_.RequestBegins(sock_);
    if (buffered() > 0) return true;
    constexpr std::chrono::milliseconds kSlice{100};
    auto waited = std::chrono::milliseconds(0);
    do {  // At least once: a keep-alive timeout of 0 still serves the connection's first request.
      if (WaitFor(POLLIN, std::min(kSlice, idle - waited))) return true;  // Poll takes < 0 as 0.
      waited += kSlice;
    } while (waited < idle && !stopping());
    return false;
  }
  // A request begins: it must arrive whole by `deadline`, and within max_request_bytes.
  void RequestStarts(SteadyTime deadline) {
    read_deadline_ = deadline;
    request_bytes_ = buffered();
  }

  bool is_readable() const override { return buffered() > 0 || WaitReadable(); }
  // Not a wait that makes room: the answer is being written (a client that does not read it
  // holds its thread for the write timeout at most).
  bool is_writable() const override { return Poll(sock_, POLLOUT, write_timeout_); }

  ssize_t read(char* out, size_t size) override {
    if (buffered() == 0) {
      if (!WaitReadable()) return -1;
      ssize_t got = 0;
      do {
        got = recv(sock_, buffer_.data(), buffer_.size(), 0);
      } while (got < 0 && errno == EINTR);
      if (got <= 0) return got;
      request_bytes_ += static_cast<std::size_t>(got);
      if (request_bytes_ > max_request_bytes_) return -1;  // Whatever its headers said.
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

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = PeerAddress(sock_, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      ip = AddressText(address, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  std::size_t buffered() const { return end_ - begin_; }
  // Readable within the read timeout, and before the request's deadline.
  bool WaitReadable() const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(read_deadline_ - SteadyNow());
    if (left.count() <= 0) return false;
    return WaitFor(POLLIN, std::min(left, read_timeout_));
  }
  bool WaitFor(short events, std::chrono::milliseconds timeout) const {
    connections_.Waiting(sock_, true);
    const bool ready = Poll(sock_, events, timeout);
    connections_.Waiting(sock_, false);
    return ready;
  }

  const socket_t sock_;
  const std::chrono::milliseconds read_timeout_;
  const std::chrono::milliseconds write_timeout_;
  const std::size_t max_request_bytes_;
  std::size_t request_bytes_ = 0;  // Of the request being read, on the wire.
  SteadyTime read_deadline_ = SteadyTime::max();
  Connections& connections_;
  std::array<char, 4096> buffer_{};
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

// Ends a connection so that its client reads the answer: a close with bytes unread (a body that
// was refused unread) is a reset, which can overtake the answer. So the sending side ends first,
// and what the client still sends is read and dropped for a moment (at most 100 ms, 1 MiB).
void CloseSocket(socket_t sock) {
  shutdown(sock, SHUT_WR);
  const SteadyTime deadline = SteadyNow() + std::chrono::milliseconds(100);
  std::array<char, 16 * 1024> unread{};
  for (std::size_t dropped = 0; dropped < (std::size_t{1} << 20);) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyNow());
    if (left.count() <= 0 || !Poll(sock, POLLIN, left)) break;
    const ssize_t got = recv(sock, unread.data(), unread.size(), 0);
    if (got <= 0) break;  // The client has closed too.
    dropped += static_cast<std::size_t>(got);
  }
  close(sock);
}

}  // namespace

HttpServer::HttpServer(ServerLimits limits)
    : limits_(limits), connections_(std::make_unique<Connections>(limits.threads)) {
  new_task_queue = [this] { return new EvictingPool(limits_.threads, *connections_); };
  set_payload_max_length(limits_.max_body_bytes);
  httplib::Server::set_pre_routing_handler([this](const httplib::Request& request,
                                                  httplib::Response& response) {
    if (request.method != "POST" && CarriesBody(request)) {
      return RefuseUnread(response, 400, fmt::format("a {} takes no body here", request.method));
    }
    return pre_routing_ ? pre_routing_(request, response) : HandlerResponse::Unhandled;
  });
  // httplib writes a reply's headers and body apart: without this, the body waits for the
  // client's delayed ACK of the headers, 40 ms on Linux, on every request of a connection.
  set_tcp_nodelay(true);
}

HttpServer::~HttpServer() { Stop(); }

httplib::Server& HttpServer::set_pre_routing_handler(HandlerWithResponse handler) {
  pre_routing_ = std::move(handler);
  return *this;
}

absl::StatusOr<std::string> HttpServer::Start(const ListenAddress& address, std::string_view flag) {
  // Last, so that every route registered before comes first: a POST to no route is refused
  // without its body being read (cpp-httplib would read it whole for its 404).
  Post(R"(.*)", [](const httplib::Request& request, httplib::Response& response,
                   const httplib::ContentReader&) {
    RefuseUnread(response, 404, fmt::format("no such path: POST {}", request.path));
  });
  auto bound = Bind(*this, address, flag);
  if (!bound.ok()) return bound;
  listener_ = std::thread([this] {
    listen_after_bind();
    listener_done_ = true;
  });
  // stop() before the listener has begun would be lost, and the listener would run for ever.
  while (!is_running() && !listener_done_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (listener_done_) {
    listener_.join();
    return absl::UnavailableError(
        fmt::format("{} {}: the server stopped as it started", flag, *bound));
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

std::size_t HttpServer::evicted_connections() const { return connections_->evicted(); }

bool HttpServer::process_and_close_socket(socket_t sock) {
  DeadlineStream stream(sock, Millis(read_timeout_sec_, read_timeout_usec_),
                        Millis(write_timeout_sec_, write_timeout_usec_),
                        2 * limits_.max_body_bytes + kMaxRequestOverhead, *connections_);
  const auto request_deadline = std::chrono::microseconds(limits_.request_deadline);
  const auto stopping = [this] { return svr_sock_ == INVALID_SOCKET; };
  bool served = false;
  for (std::size_t left = keep_alive_max_count_; left > 0 && !stopping(); --left) {
    if (!stream.AwaitRequest(std::chrono::seconds(keep_alive_timeout_sec_), stopping)) break;
    stream.RequestStarts(SteadyNow() + request_deadline);
    bool connection_closed = false;
    served = process_request(stream, /*close_connection=*/left == 1, connection_closed, nullptr);
    if (!served || connection_closed) break;
  }
  connections_->Ended(sock);
  CloseSocket(sock);
  return served;
}

}  // namespace bikestream
