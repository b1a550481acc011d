#include "mqtt/mqtt_source.h"

#include <fmt/format.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/file.h"
#include "common/limits.h"
#include "common/mutex.h"
#include "common/status.h"
#include "ingest/ingestor.h"

namespace bikestream::mqtt {
namespace {

constexpr int kPollMillis = 100;
constexpr DurationMicros kFirstReconnectDelay = 100 * kMicrosPerMilli;
// A window takes no more messages in after this, so that it gets committed and acknowledged
// (and the keepalive ping written) while messages keep coming.
constexpr DurationMicros kMaxWindowAge = 500 * kMicrosPerMilli;
constexpr DurationMicros kLastingConnection = 5 * kMicrosPerSecond;

TimestampMicros Now() { return SystemClock().Now(); }

// The topics `filter` matches: a shared subscription ($share/GROUP/FILTER) matches its FILTER's.
std::string MatchedFilter(std::string_view filter) {
  constexpr std::string_view kShared = "$share/";
  if (!filter.starts_with(kShared)) return std::string(filter);
  const std::size_t group_end = filter.find('/', kShared.size());
  return std::string(group_end == std::string_view::npos ? filter : filter.substr(group_end + 1));
}

// The topics left out that are said (and unsubscribed) one by one; past them, only counted.
constexpr std::size_t kTopicsSaid = 100;

// A refusal that fails the job: with a code the runner does not retry.
absl::Status Permanent(const absl::Status& status) {
  return IsPermanentReceiveError(status) ? status : absl::PermissionDeniedError(status.message());
}

}  // namespace

// libmosquitto's callbacks: they run inside mosquitto_loop_read, on the socket loop's thread.
struct Callbacks {
  static void OnConnect(mosquitto* client, void* user_data, int reason_code, int flags,
                        const mosquitto_property* /*properties*/) {
    auto& self = *static_cast<Source*>(user_data);
    const auto& endpoint = self.options_.connection.endpoint;
    if (reason_code != MQTT_RC_SUCCESS) {
      absl::Status refused =
          ReasonError(reason_code, fmt::format("the MQTT broker at {}:{} refused the connection",
                                               endpoint.host, endpoint.port));
      MutexLock lock(&self.mu_);
      if (absl::IsUnauthenticated(refused) || absl::IsPermissionDenied(refused) ||
          absl::IsInvalidArgument(refused)) {
        self.fatal_ = refused;
      } else {
        self.last_error_ = refused;  // Busy, unavailable: tried again after a backoff.
      }
      self.refused_ = true;  // The broker closes the connection next: its reason is this one.
      self.changed_.SignalAll();
      return;
    }
    self.Unsubscribe(client, (flags & 1) != 0);  // Bit 0: the session was resumed.
    // Retained messages only for a new subscription: a resumed session has had them.
    const int code = mosquitto_subscribe_v5(client, nullptr, endpoint.topic.c_str(), 1,
                                            MQTT_SUB_OPT_SEND_RETAIN_NEW, nullptr);
    MutexLock lock(&self.mu_);
    if (code != MOSQ_ERR_SUCCESS) {
      self.fatal_ =
          Permanent(LibraryError(code, fmt::format("cannot subscribe to '{}'", endpoint.topic)));
    } else {
      self.connected_ = true;
      self.connected_since_ = Now();
      if (self.was_connected_ && self.options_.log) {
        self.options_.log(fmt::format(
            "mqtt: connected again to {}; the broker sends again what was not acknowledged",
            self.Name()));
      }
      self.was_connected_ = true;
    }
    self.changed_.SignalAll();
  }

  static void OnSubscribe(mosquitto* /*client*/, void* user_data, int /*mid*/, int count,
                          const int* granted, const mosquitto_property* /*properties*/) {
    auto& self = *static_cast<Source*>(user_data);
    const std::string what = fmt::format("the MQTT broker refused the subscription to '{}'",
                                         self.options_.connection.endpoint.topic);
    MutexLock lock(&self.mu_);
    if (count < 1 || granted[0] >= MQTT_RC_UNSPECIFIED) {
      self.fatal_ = Permanent(ReasonError(count < 1 ? MQTT_RC_UNSPECIFIED : granted[0], what));
    } else if (granted[0] == 0) {
      self.fatal_ = absl::InvalidArgumentError(
          what + " at QoS 1: it granted QoS 0, which loses messages (check the broker's max_qos)");
    } else {
      self.subscribed_ = true;
    }
    self.changed_.SignalAll();
  }

  static void OnUnsubscribe(mosquitto* /*client*/, void* user_data, int mid,
                            const mosquitto_property* /*properties*/) {
    auto& self = *static_cast<Source*>(user_data);
    MutexLock lock(&self.mu_);
    if (self.unsubscribing_.erase(mid) > 0) self.SaveSubscriptions();
  }

  static void OnMessage(mosquitto* client, void* user_data, const mosquitto_message* message,
                        const mosquitto_property* /*properties*/) {
    auto& self = *static_cast<Source*>(user_data);
    const Endpoint& endpoint = self.options_.connection.endpoint;
    const std::string topic = message->topic ? message->topic : "";
    bool asked_for = false;
    mosquitto_topic_matches_sub(MatchedFilter(endpoint.topic).c_str(), topic.c_str(), &asked_for);
    if (!asked_for) {
      self.LeaveOut(client, topic);
      return;
    }
    std::string payload(static_cast<const char*>(message->payload),
                        std::size_t(std::max(message->payloadlen, 0)));
    // MQTT gives a message no id: a bad message is known by its topic and bytes, so its
    // redeliveries are one dead letter.
    std::string message_id = ContentMessageId(topic, payload);
    std::string origin = topic == endpoint.topic ? ""
                                                 : Endpoint{.host = endpoint.host,
                                                            .port = endpoint.port,
                                                            .topic = topic,
                                                            .tls = endpoint.tls}
                                                       .Name();
    MutexLock lock(&self.mu_);
    ++self.received_;
    self.ready_.push_back(
        SourceMessage{.ack_id = fmt::format("{}:{}", self.connection_, self.received_),
                      .payload = std::move(payload),
                      .message_id = std::move(message_id),
                      .position = self.received_,
                      .origin = std::move(origin)});
    self.changed_.SignalAll();
  }
};

absl::StatusOr<std::unique_ptr<Source>> Source::Start(SourceOptions options) {
  if (options.connection.client_id.empty()) {
    return absl::InvalidArgumentError(
        "an MQTT source needs a fixed client id: its session, and what the broker "
        "queues while it is away, live under that name");
  }
  std::unique_ptr<Source> source(new Source(std::move(options)));
  if (source->wake_fd_ < 0) return absl::InternalError("could not create an eventfd");
  source->loop_ = std::thread([raw = source.get()] { raw->Run(); });
  MutexLock lock(&source->mu_);
  // Subscribed; or a message came first, from a resumed session, which is as good: the SUBACK
  // can be behind a window of messages that nobody commits before Start returns.
  auto answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(source->mu_) {
    return source->subscribed_ || source->received_ > 0 || !source->fatal_.ok() ||
           !source->last_error_.ok();
  };
  const absl::Time deadline = absl::Now() + absl::Microseconds(source->options_.connect_timeout);
  while (!answered() && !WaitWithDeadline(source->changed_, &source->mu_, deadline)) {
  }
  if (!source->fatal_.ok()) return source->fatal_;
  if (!source->last_error_.ok()) return source->last_error_;
  if (!answered()) {
    return absl::DeadlineExceededError(fmt::format(
        "the MQTT broker at {}:{} did not answer within {} s",
        source->options_.connection.endpoint.host, source->options_.connection.endpoint.port,
        source->options_.connect_timeout / kMicrosPerSecond));
  }
  return source;
}

Source::Source(SourceOptions options)
    : options_(std::move(options)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Source::~Source() {
  Close();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Source::Run() {
  DurationMicros reconnect_delay = kFirstReconnectDelay;
  bool first_attempt = true;
  while (true) {
    {
      MutexLock lock(&mu_);
      if (!fatal_.ok() || (closing_ && !client_)) break;
      // Between turns: no read is under way, and none comes after this.
      if (stopped_ && !reads_done_) {
        reads_done_ = true;
        changed_.SignalAll();
      }
      if (stopped_ && !client_) {  // Nothing to acknowledge on a new connection: wait for Close.
        while (!closing_) Wait(changed_, &mu_);
        continue;
      }
      // A connection that lasted: the next loss starts the backoff afresh. (One the broker ends
      // at once, as for a second client with the same id, keeps backing off.)
      if (connected_ && Now() - connected_since_ >= kLastingConnection)
        reconnect_delay = kFirstReconnectDelay;
      if (!client_ && !first_attempt) {
        // After a failed attempt or a lost connection.
        if (options_.log && was_connected_) {  // Before that, the error is Start's to report.
          options_.log(fmt::format("mqtt: {}; trying again in {:.1f} s", MessageOf(last_error_),
                                   double(reconnect_delay) / kMicrosPerSecond));
        }
        const absl::Time until = absl::Now() + absl::Microseconds(reconnect_delay);
        while (!closing_ && !stopped_ && !WaitWithDeadline(changed_, &mu_, until)) {
        }
        reconnect_delay = std::min(2 * reconnect_delay, options_.max_reconnect_delay);
        if (closing_ || stopped_) continue;
      }
    }
    if (!client_) {
      first_attempt = false;
      TryConnect();
      continue;
    }
    if (!Turn(client_.get())) client_.reset();
  }
  MutexLock lock(&mu_);
  done_ = true;
  changed_.SignalAll();
}

bool Source::TryConnect() {
  auto client = NewClient(options_.connection, true, this);
  if (!client.ok()) {
    MutexLock lock(&mu_);
    fatal_ = Permanent(client.status());
    changed_.SignalAll();
    return false;
  }
  mosquitto* handle = client->get();
  // The client queues what it would send (PUBACKs above all) until Turn writes it.
  mosquitto_threaded_set(handle, true);
  mosquitto_int_option(handle, MOSQ_OPT_RECEIVE_MAXIMUM,
                       std::clamp(options_.receive_maximum, 1, 65535));
  mosquitto_connect_v5_callback_set(handle, Callbacks::OnConnect);
  mosquitto_subscribe_v5_callback_set(handle, Callbacks::OnSubscribe);
  mosquitto_unsubscribe_v5_callback_set(handle, Callbacks::OnUnsubscribe);
  mosquitto_message_v5_callback_set(handle, Callbacks::OnMessage);
  absl::Status status = Connect(handle, options_.connection, true);
  MutexLock lock(&mu_);
  ++connection_;
  refused_ = false;
  if (!status.ok()) {
    last_error_ = status;
    changed_.SignalAll();
    return false;
  }
  client_ = std::move(*client);
  return true;
}

bool Source::Turn(mosquitto* client) {
  bool may_read = false, may_write = false, closing = false;
  {
    MutexLock lock(&mu_);
    const TimestampMicros now = Now();
    ReleaseDue(now);
    may_write = Unacknowledged() == 0;
    if (may_write) {
      window_closed_ = false;
    } else if (now - window_opened_ >= kMaxWindowAge) {
      window_closed_ = true;
    }
    may_read = !stopped_ && !closing_ && !window_closed_;
    closing = closing_;
  }
  if (closing) {
    if (may_write) WriteAll(client);  // Every message is committed: the last PUBACKs.
    EndGracefully(mosquitto_socket(client));
    return false;
  }
  // The committed window's PUBACKs are written before anything more is read: what a read takes
  // in has its PUBACK queued behind them.
  int code = MOSQ_ERR_SUCCESS;
  if (may_write && mosquitto_want_write(client)) code = mosquitto_loop_write(client, 1);
  if (may_write && mosquitto_want_write(client)) may_read = false;
  if (code == MOSQ_ERR_SUCCESS) {
    pollfd fds[2] = {{mosquitto_socket(client), short(may_read ? POLLIN : 0), 0},
                     {wake_fd_, POLLIN, 0}};
    if (may_write && mosquitto_want_write(client)) fds[0].events |= POLLOUT;
    poll(fds, 2, kPollMillis);
    if (fds[1].revents & POLLIN) {
      std::uint64_t ignored;
      [[maybe_unused]] auto read = ::read(wake_fd_, &ignored, sizeof ignored);
    }
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      code = MOSQ_ERR_CONN_LOST;
    } else if (fds[0].revents & POLLOUT) {
      code = mosquitto_loop_write(client,
                                  1);  // The rest of the window's PUBACKs; reading waits a turn.
    } else if (may_read && (fds[0].revents & POLLIN)) {
      code = mosquitto_loop_read(client, 1);
      CloseFullWindow();
    }
  }
  if (code == MOSQ_ERR_SUCCESS) code = mosquitto_loop_misc(client);
  if (code == MOSQ_ERR_SUCCESS) return true;
  Disconnected(LibraryError(code, fmt::format("lost the connection to {}", Name())));
  return false;
}

void Source::CloseFullWindow() {
  MutexLock lock(&mu_);
  const std::size_t unacknowledged = Unacknowledged();
  if (unacknowledged == 1) window_opened_ = Now();
  if (unacknowledged >= std::size_t(options_.receive_maximum)) window_closed_ = true;
}

void Source::WriteAll(mosquitto* client) {
  for (int i = 0; i < 50 && mosquitto_want_write(client); ++i) {
    if (mosquitto_loop_write(client, 1) != MOSQ_ERR_SUCCESS) return;
    pollfd out{mosquitto_socket(client), POLLOUT, 0};
    if (mosquitto_want_write(client)) poll(&out, 1, kPollMillis);
  }
}

// Not libmosquitto's DISCONNECT: it closes the socket at once, and a close with unread bytes
// is a reset, which can make the broker drop the PUBACKs it has not read yet. So: end the
// sending side after what was written, and read and drop what the broker still sends (it is
// unacknowledged, so it comes again) until the broker closes too. The session stays.
void Source::EndGracefully(int socket) {
  if (socket < 0) return;
  shutdown(socket, SHUT_WR);
  char buffer[16384];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd in{socket, POLLIN, 0};
    if (poll(&in, 1, kPollMillis) <= 0) continue;
    if (::read(socket, buffer, sizeof buffer) <= 0) return;  // The broker has closed too.
  }
}

void Source::Disconnected(const absl::Status& why) {
  MutexLock lock(&mu_);
  // The broker sends again everything this connection did not acknowledge.
  connected_ = false;
  ready_.clear();
  handed_out_.clear();
  delayed_.clear();
  if (!refused_) last_error_ = why;  // A refusal is why the broker closed: keep its reason.
}

std::size_t Source::Unacknowledged() const {
  return ready_.size() + handed_out_.size() + delayed_.size();
}

void Source::Unsubscribe(mosquitto* client, bool session_present) {
  const std::string& asked = options_.connection.endpoint.topic;
  std::set<std::string> stale;
  if (session_present && !options_.subscriptions_path.empty()) {
    auto saved = ReadWholeFile(options_.subscriptions_path, limits::kSmallFile);
    if (saved.ok()) {
      for (absl::string_view filter : absl::StrSplit(*saved, '\n', absl::SkipEmpty())) {
        if (filter != asked) stale.emplace(filter);
      }
    } else if (!absl::IsNotFound(saved.status()) && options_.log) {
      options_.log(fmt::format(
          "mqtt: the session's earlier topic filters are unknown ({}): their messages are left "
          "out as they come",
          MessageOf(saved.status())));
    }
  }
  MutexLock lock(&mu_);
  unsubscribing_.clear();
  for (const std::string& filter : stale) {
    int mid = 0;
    if (mosquitto_unsubscribe_v5(client, &mid, filter.c_str(), nullptr) != MOSQ_ERR_SUCCESS)
      continue;
    unsubscribing_[mid] = filter;
    if (options_.log) {
      options_.log(fmt::format(
          "mqtt: session {} was subscribed to '{}' by an earlier run: unsubscribed, this job "
          "asks for '{}'",
          options_.connection.client_id, filter, asked));
    }
  }
  SaveSubscriptions();
}

void Source::SaveSubscriptions() {
  if (options_.subscriptions_path.empty()) return;
  std::string filters = options_.connection.endpoint.topic + "\n";
  for (const auto& [mid, filter] : unsubscribing_) filters += filter + "\n";
  if (absl::Status saved = ReplaceFile(options_.subscriptions_path, filters);
      !saved.ok() && options_.log) {
    options_.log(
        fmt::format("mqtt: cannot keep the session's topic filters: {}", MessageOf(saved)));
  }
}

void Source::LeaveOut(mosquitto* client, const std::string& topic) {
  MutexLock lock(&mu_);
  ++left_out_;
  if (left_out_topics_.size() >= kTopicsSaid || !left_out_topics_.insert(topic).second) return;
  // Its subscription may be the topic itself: then this ends it (if not, the broker says there
  // was none, and the message is left out anyway).
  int mid = 0;
  if (mosquitto_unsubscribe_v5(client, &mid, topic.c_str(), nullptr) == MOSQ_ERR_SUCCESS)
    unsubscribing_[mid] = topic;
  if (options_.log) {
    options_.log(fmt::format(
        "mqtt: a message on '{}', which '{}' does not match, was acknowledged and left out: a "
        "subscription of an earlier run of session {} (counted from now on, not said again)",
        topic, options_.connection.endpoint.topic, options_.connection.client_id));
  }
}

std::uint64_t Source::left_out() const {
  MutexLock lock(&mu_);
  return left_out_;
}

void Source::ReleaseDue(TimestampMicros now) {
  auto due = std::stable_partition(delayed_.begin(), delayed_.end(),
                                   [&](const Delayed& d) { return d.due <= now; });
  for (auto it = delayed_.begin(); it != due; ++it) ready_.push_back(std::move(it->message));
  delayed_.erase(delayed_.begin(), due);
}

void Source::Wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
}

absl::StatusOr<Received> Source::Receive(std::size_t max_messages) {
  MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(kPollMillis);
  while (true) {
    if (!fatal_.ok()) return fatal_;
    ReleaseDue(Now());
    if (!ready_.empty()) break;
    if ((reads_done_ || done_) && delayed_.empty()) return Received{.exhausted = true};
    if (WaitWithDeadline(changed_, &mu_, deadline)) return Received{};
  }
  Received received;
  while (!ready_.empty() && received.messages.size() < max_messages) {
    SourceMessage& message = ready_.front();
    handed_out_.emplace(message.ack_id, message);
    received.messages.push_back(std::move(message));
    ready_.pop_front();
  }
  return received;
}

absl::Status Source::Ack(const std::vector<std::string>& ack_ids) {
  MutexLock lock(&mu_);
  for (const std::string& id : ack_ids) handed_out_.erase(id);
  if (Unacknowledged() == 0) Wake();
  return absl::OkStatus();
}

absl::Status Source::Nack(const std::vector<std::string>& ack_ids, DurationMicros delay) {
  MutexLock lock(&mu_);
  const TimestampMicros due = Now() + delay;
  for (const std::string& id : ack_ids) {
    auto it = handed_out_.find(id);
    if (it == handed_out_.end()) continue;  // From a lost connection: the broker sends it again.
    delayed_.push_back(Delayed{due, std::move(it->second)});
    handed_out_.erase(it);
  }
  changed_.SignalAll();
  return absl::OkStatus();
}

void Source::StopReceiving() {
  MutexLock lock(&mu_);
  stopped_ = true;
  changed_.SignalAll();
  Wake();
}

void Source::Close() {
  {
    MutexLock lock(&mu_);
    closing_ = true;
    stopped_ = true;
    changed_.SignalAll();
  }
  Wake();
  if (loop_.joinable()) loop_.join();
}

}  // namespace bikestream::mqtt
