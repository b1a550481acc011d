// A simulator of bike-station sensors: a deterministic stream of event messages.
//
// The same options (seed, run id, start) give the same messages, byte for byte. The simulator
// never sleeps: each message carries the wall-clock offset at which it is due, and the caller
// paces (see pacer.h). Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"

namespace bikestream {

enum class SimulationMode {
  kSparse,  // As the original sensors script: a few stations, one event every 1-3 s.
  kStream,  // A busy city: skewed stations, daily peaks, --rate events per second.
};

// The slowest paced stream: slower, and an event's gap in event time would leave the range of
// timestamps (event/timestamp.h) within a few events.
inline constexpr double kMinSimulatedRate = 0.001;  // Events per second.
inline constexpr int kMaxStations = 26 * 899;       // A_101 … Z_999.

struct SimulatorOptions {
  SimulationMode mode = SimulationMode::kSparse;  // Default: sparse.
  // Number of stations; 0 picks the mode's default (sparse: A_101, A_205, A_310; stream: 50).
  int stations = 0;
  std::uint64_t seed = 0;           // Default: 0. Fixes everything but the run id.
  std::string run_id = "00000000";  // The per-run part of event ids. Default: 00000000.
  TimestampMicros start = 0;        // Event time of the stream's start.
  double rate = 0;                  // Stream: events per wall second; 0 = unpaced.
  double speedup = 1;               // Event-time seconds per wall second. Default: 1.
  double duplicate_rate = 0;        // Share of messages that repeat an earlier event.
  double invalid_rate = 0;          // Share of messages that are bad input.
  double late_rate = 0;             // Share of events whose timestamp is late...
  DurationMicros late_by = 10 * 60 * kMicrosPerSecond;  // ...by up to this. Default: 10m.
};

// Checks ranges and returns a message naming the flag to fix. Every timestamp a valid
// configuration emits is inside [kMinTimestamp, kMaxTimestamp]: event time stops at the end
// of the range rather than leave it.
absl::Status ValidateSimulatorOptions(const SimulatorOptions& options);

enum class MessageKind : std::uint8_t { kValid, kDuplicate, kInvalid };

struct SimulatedMessage {
  std::string payload;
  MessageKind kind = MessageKind::kValid;
  double due_seconds = 0;  // Wall-clock offset from the start at which it should be sent.
};

struct SimulatorStats {
  std::uint64_t messages = 0;
  std::uint64_t valid = 0;       // Distinct valid events (each event_id once).
  std::uint64_t duplicates = 0;  // Repeats of an already sent valid event.
  std::uint64_t invalid = 0;
  std::uint64_t late = 0;  // Valid events with a late timestamp.
};

// The name of station `index` (0-based): A_101 … A_999, B_101 …
std::string StationName(int index);

// A random 8-hex-digit run id, different on each call.
std::string RandomRunId();

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options);

  SimulatedMessage Next();

  const SimulatorStats& stats() const { return stats_; }
  const std::vector<std::string>& station_names() const { return stations_; }

 private:
  double Uniform();  // In [0, 1).
  double Exponential(double mean);
  void Advance(double seconds);  // Moves event time on, stopping at kMaxTimestamp.
  Event NextEvent();
  std::string NextInvalid();
  int PickStation();
  double DiurnalIntensity(TimestampMicros ts) const;
  std::string NextEventId();

  SimulatorOptions options_;
  std::mt19937_64 random_;
  std::vector<std::string> stations_;
  std::vector<double> cumulative_weight_;  // For picking busy stations more often.
  double diurnal_mean_ = 1;
  TimestampMicros clock_;  // Event time of the latest event.
  double due_seconds_ = 0;
  std::uint64_t next_sequence_ = 1;
  std::vector<std::string> recent_valid_;  // Ring of payloads that duplicates repeat.
  SimulatorStats stats_;
};

}  // namespace bikestream
