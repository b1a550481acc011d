// An MQTT topic (filter) as an event source (source/event_source.h): a QoS 1 subscription in
// a persistent session, whose messages the broker gets acknowledged only after the runner
// acknowledged them, i.e. after their commit.
//
// libmosquitto acknowledges a QoS 1 message (queues its PUBACK) before it hands the message
// over, and has no manual acknowledgement. So the source drives the client's socket itself, on
// a thread of its own, and writes what the client queued only when every message received on
// the connection is acknowledged by the runner: until then the PUBACKs wait in the client.
// Messages come in windows of at most `receive_maximum` (asked of the broker as MQTT 5's Receive
// Maximum, and kept to here by not reading further) and at most half a second, each committed
// and acknowledged before the next is read: otherwise, with messages coming all the time, the
// moment when everything received is committed might never come.
//
// A lost connection loses only acknowledgements: the source reconnects to the same session and
// the broker sends again what was not acknowledged, which the warehouse's dedup absorbs; what
// the runner still holds from the old connection is forgotten. A message the runner hands back
// (Nack) is kept here and received again after the delay. A keepalive ping is written like the
// PUBACKs, so a commit that takes longer than the keepalive costs a reconnect, nothing more.
//
// A persistent session keeps its subscriptions at the broker, and a broker never tells a client
// which it holds: a job restarted with another topic under the same client id would go on
// receiving the old one. So the source keeps the filters its session is subscribed to in a
// file (`subscriptions_path`), and on a resumed session unsubscribes those no longer asked for;
// and a message that still arrives on a topic the filter does not match (queued before the
// unsubscribe, or from a session whose file is gone) is acknowledged and left out, counted and
// said once per topic (the first 100 topics), and its topic unsubscribed.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/time.h"
#include "mqtt/mqtt.h"
#include "source/event_source.h"

namespace bikestream::mqtt {

struct SourceOptions {
  ConnectionOptions connection;  // A fixed client_id is required: the session lives under it.
  int receive_maximum = 10'000;  // Messages received and not acknowledged, at most. 1..65535.
  DurationMicros connect_timeout =
      10 * kMicrosPerSecond;  // Of the first connection. Default: 10 s.
  DurationMicros max_reconnect_delay = 30 * kMicrosPerSecond;  // Backoff cap. Default: 30 s.
  std::function<void(const std::string&)> log;  // Lost connections, reconnects. Default: none.
  // Where the session's topic filters are kept (a small file). Default: "" (none kept: filters
  // of an earlier run under this client id are found only by their messages).
  std::string subscriptions_path;
};

class Source final : public EventSource {
 public:
  // Connects and subscribes, waiting for the broker's answers: fails with the reason when the
  // broker cannot be reached or refuses the client or the subscription. (A resumed session's
  // messages can come before the SUBACK; a refusal then fails the first Receive instead.) The
  // TCP connection is made in a blocking call: an unreachable host answers in the system's
  // connect timeout.
  static absl::StatusOr<std::unique_ptr<Source>> Start(SourceOptions options);
  ~Source() override;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  std::string Name() const override { return options_.connection.endpoint.Name(); }
  absl::StatusOr<Received> Receive(std::size_t max_messages) override;
  absl::Status Ack(const std::vector<std::string>& ack_ids) override;
  absl::Status Nack(const std::vector<std::string>& ack_ids, DurationMicros delay) override;
  void StopReceiving() override;
  // Writes the last acknowledgements when every message is acknowledged, then disconnects
  // (the session stays at the broker: what was not acknowledged comes again).
  void Close() override;

  // Messages left out so far: they arrived on a topic the filter does not match.
  std::uint64_t left_out() const;

 private:
  struct Delayed {
    TimestampMicros due = 0;
    SourceMessage message;
  };

  explicit Source(SourceOptions options);
  void Run();
  // One turn of the socket loop: reads, writes when allowed, pings. False: the connection is gone.
  bool Turn(mosquitto* client);
  bool TryConnect();
  // After a read: the window is full (receive_maximum, whether or not the broker keeps to it:
  // mosquitto 2.0.11 does not, on resuming a session), so nothing more is read until it is
  // committed and acknowledged.
  void CloseFullWindow();
  static void WriteAll(mosquitto* client);
  static void EndGracefully(int socket);
  void Disconnected(const absl::Status& why);
  void Wake();
  std::size_t Unacknowledged() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);  // Received on this connection, not acknowledged.
  void ReleaseDue(TimestampMicros now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // On connecting: the session's filters other than the one asked for (when it was resumed) are
  // unsubscribed, the file first listing them all. On the socket loop's thread.
  void Unsubscribe(mosquitto* client, bool session_present);
  // Writes the filters of the session to subscriptions_path.
  void SaveSubscriptions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A message on a topic the filter does not match: acknowledged and left out, said once a topic.
  void LeaveOut(mosquitto* client, const std::string& topic);

  friend struct Callbacks;  // libmosquitto's, on the socket loop's thread.

  const SourceOptions options_;
  int wake_fd_ = -1;  // An eventfd: acknowledgements and state changes wake the socket loop.

  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  // The connection's number: an ack id from an earlier connection acknowledges nothing.
  std::uint64_t connection_ ABSL_GUARDED_BY(mu_) = 0;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;  // The broker accepted the latest connection...
  TimestampMicros connected_since_ ABSL_GUARDED_BY(mu_) = 0;  // ...then.
  bool was_connected_ ABSL_GUARDED_BY(mu_) = false;           // Some connection was accepted.
  bool refused_ ABSL_GUARDED_BY(mu_) =
      false;  // The broker refused the latest connection (last_error_ says why).
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;  // A SUBACK granted QoS 1.
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) =
      false;  // Stopped, and the socket loop will read nothing more.
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;   // The socket loop has ended.
  absl::Status fatal_ ABSL_GUARDED_BY(mu_);  // A refusal reconnecting cannot cure: fails Receive.
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);  // Why the last connection attempt failed.
  std::uint64_t received_ ABSL_GUARDED_BY(mu_) =
      0;  // Messages received, for positions and ack ids.
  // The window: the messages received since everything was last acknowledged. Closed, it takes
  // nothing more in until all of it is acknowledged.
  TimestampMicros window_opened_ ABSL_GUARDED_BY(mu_) = 0;
  bool window_closed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<SourceMessage> ready_ ABSL_GUARDED_BY(mu_);  // Received, not yet handed to the runner.
  std::map<std::string, SourceMessage> handed_out_
      ABSL_GUARDED_BY(mu_);                           // By ack id, until acknowledged.
  std::deque<Delayed> delayed_ ABSL_GUARDED_BY(mu_);  // Handed back, to be received again.
  // The session's filters besides the one asked for, by the mid of their UNSUBSCRIBE.
  std::map<int, std::string> unsubscribing_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> left_out_topics_ ABSL_GUARDED_BY(mu_);  // Said once each.
  std::uint64_t left_out_ ABSL_GUARDED_BY(mu_) = 0;

  Client client_;  // Used by the socket loop only.
  std::thread loop_;
};

}  // namespace bikestream::mqtt
