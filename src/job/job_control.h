// The lifecycle of a streaming job, as Dataflow's, and the metrics it exposes.
//
// RUNNING → DRAINING → DRAINED: stop pulling, commit and acknowledge everything in flight.
// RUNNING → CANCELLED: stop now; what is not committed is not acknowledged and is redelivered.
// RUNNING → FAILED: an error the job cannot retry past.
// Signals, the admin endpoint and the job itself move the state; everything here is
// thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace bikestream {

enum class JobState : int { kRunning, kDraining, kDrained, kCancelled, kFailed };

std::string_view JobStateName(JobState state);  // "RUNNING", …

class JobControl {
 public:
  JobState state() const { return state_.load(); }
  bool running() const { return state() == JobState::kRunning; }

  // RUNNING → DRAINING; false when the job was not running.
  bool RequestDrain() { return Transition(JobState::kRunning, JobState::kDraining); }
  // RUNNING or DRAINING → CANCELLED; false when the job had already ended.
  bool RequestCancel() {
    return Transition(JobState::kRunning, JobState::kCancelled) ||
           Transition(JobState::kDraining, JobState::kCancelled);
  }
  void Finish(JobState final_state) { state_ = final_state; }

 private:
  bool Transition(JobState from, JobState to) { return state_.compare_exchange_strong(from, to); }
  std::atomic<JobState> state_{JobState::kRunning};
};

// Publish-to-commit latency buckets, in seconds (Prometheus histogram upper bounds).
inline constexpr std::array<double, 10> kLatencyBuckets = {0.01, 0.05, 0.1, 0.25, 0.5,
                                                           1,    2.5,  5,   10,   30};

struct JobMetrics {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> stored{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> acks{0};
  std::atomic<std::uint64_t> nacks{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> commit_failures{0};
  std::atomic<std::uint64_t> commit_failures_in_a_row{0};  // Back to 0 when a commit succeeds.
  std::atomic<std::uint64_t> feature_ticks_written{0};     // --features streaming.
  std::atomic<std::uint64_t> features_too_late{0};  // Events too late to rewrite their ticks.
  // The feature scheduler (`features --every`): ticks it computed and the rows they wrote,
  // ticks that failed (and are retried), and how far behind its tick the latest one landed.
  std::atomic<std::uint64_t> scheduled_ticks{0};
  std::atomic<std::uint64_t> scheduled_rows{0};
  std::atomic<std::uint64_t> scheduled_tick_failures{0};
  std::atomic<double> scheduled_lag_seconds{0};
  std::atomic<std::uint64_t> warehouse_bytes_processed{
      0};  // Where the engine reports them (BigQuery).
  std::atomic<std::uint64_t> warehouse_bytes_billed{0};
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size() + 1> latency_buckets{};
  std::atomic<std::uint64_t> latency_count{0};
  std::atomic<double> latency_sum{0};

  void ObserveLatency(double seconds);
};

// Why the job is unhealthy, for /healthz: it failed, or its latest commits failed (the
// warehouse is away: nothing is being stored, though the job runs). Empty: healthy.
std::string Unhealthy(const JobMetrics& metrics, JobState state);

// The metrics and state in Prometheus text format.
std::string PrometheusText(const JobMetrics& metrics, JobState state);

}  // namespace bikestream
