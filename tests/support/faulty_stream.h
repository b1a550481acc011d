// The stream the end-to-end tests send: stream mode from a fixed start with 1% duplicates and
// 1% invalid messages, as flags for the binary and as what the simulator promises for them.
#pragma once

#include <string>
#include <vector>

#include "simulator/simulator.h"

namespace bikestream::e2e {

inline constexpr const char* kFaultyStreamStart = "2025-10-18T00:00:00Z";

// The flags of `simulate` and `run` that make the stream.
inline std::vector<std::string> FaultyStreamFlags(std::uint64_t seed, const std::string& run_id,
                                                  std::uint64_t count) {
  return {"--mode",           "stream",
          "--seed",           std::to_string(seed),
          "--run-id",         run_id,
          "--start",          kFaultyStreamStart,
          "--count",          std::to_string(count),
          "--duplicate-rate", "0.01",
          "--invalid-rate",   "0.01"};
}

// The simulator those flags run.
inline Simulator FaultyStreamSimulator(std::uint64_t seed, const std::string& run_id) {
  return Simulator(SimulatorOptions{.mode = SimulationMode::kStream,
                                    .seed = seed,
                                    .run_id = run_id,
                                    .start = *ParseRfc3339(kFaultyStreamStart),
                                    .duplicate_rate = 0.01,
                                    .invalid_rate = 0.01});
}

// What the simulator promises for those flags, computed in this process.
inline SimulatorStats ExpectedFaultyStream(std::uint64_t seed, const std::string& run_id,
                                           std::uint64_t count) {
  Simulator simulator = FaultyStreamSimulator(seed, run_id);
  for (std::uint64_t i = 0; i < count; ++i) simulator.Next();
  return simulator.stats();
}

}  // namespace bikestream::e2e
