// The console's calls to its warehouse, each answered within a bound: while the warehouse is
// unreachable a page gets 503 at once, not after the engine's own retries (a minute for
// PostgreSQL, five for BigQuery), and no request queues behind another for longer than its
// bound.
//
// The calls run one at a time on a thread of the gate's own (a Warehouse is used by one thread
// at a time). A request waits for its answer up to its bound, then answers 503 itself; its call,
// if it has not started, never runs. Once a call answers 503 (ConsoleApi's answer for a
// warehouse that cannot be reached), or does not answer in time, the gate is closed: requests
// answer 503 at once, saying since when and why, except one every `probe_every` (when no call
// is running), which tries the warehouse again. Any other answer opens it, also a late one.
// Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "console/console_api.h"

namespace bikestream {

struct WarehouseGateOptions {
  // While the warehouse is unreachable, one request this often tries it. Default: 5 s.
  std::chrono::milliseconds probe_every{5000};
};

// How long a read waits for its answer (the page refreshes every 5 s), and an action (replay,
// which writes as much as it must).
inline constexpr std::chrono::milliseconds kReadAnswersWithin{5000};
inline constexpr std::chrono::milliseconds kActionAnswersWithin{60'000};

class WarehouseGate {
 public:
  explicit WarehouseGate(WarehouseGateOptions options = {});
  // Waits for the call in flight, if any: it may take the engine's retries.
  ~WarehouseGate();
  WarehouseGate(const WarehouseGate&) = delete;
  WarehouseGate& operator=(const WarehouseGate&) = delete;

  // The answer of `run` (a call to the warehouse), or 503 when it did not come within `within`
  // or the gate is closed.
  ApiReply Run(std::function<ApiReply()> run, std::chrono::milliseconds within);

 private:
  using Steady = std::chrono::steady_clock;
  struct Call {
    std::function<ApiReply()> run;
    std::promise<ApiReply> answer;
    bool abandoned = false;  // Guarded by the gate's mutex.
  };

  // nullopt when a request may call the warehouse now; else the 503 it answers.
  std::optional<ApiReply> Closed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // After a call answered, or ran out of time: closes the gate on a 503, opens it on anything
  // else.
  void Learn(const ApiReply& reply) ABSL_LOCKS_EXCLUDED(mutex_);
  void Work();

  const WarehouseGateOptions options_;
  absl::Mutex mutex_;
  absl::CondVar queued_;
  std::deque<std::shared_ptr<Call>> calls_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::optional<Steady::time_point> closed_since_ ABSL_GUARDED_BY(mutex_);
  std::string why_closed_ ABSL_GUARDED_BY(mutex_);
  bool calling_ ABSL_GUARDED_BY(mutex_) =
      false;  // A call is running: a probe would only wait for it.
  Steady::time_point next_probe_ ABSL_GUARDED_BY(mutex_);
  std::thread worker_;  // Last: started once the rest is.
};

}  // namespace bikestream
