// The simulation flags shared by `simulate` and `run`.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "simulator/simulator.h"

namespace bikestream::cli {

// The simulation flags shared by `simulate` and `run`.
struct SimulationFlags {
  std::string mode = "sparse";
  std::string start = "now";
  std::string late_by = "10m";
  std::optional<std::uint64_t> seed;
  std::optional<std::string> run_id;
  std::optional<std::uint64_t> count;
  std::optional<std::string> duration;
  std::optional<int> stations;  // Unset: the mode's default.
  SimulatorOptions options;
};
void AddSimulationOptions(CLI::App* command, SimulationFlags* flags);
// Resolves the flags into options (random seed and run id when not given).
absl::StatusOr<SimulatorOptions> ResolveSimulation(SimulationFlags& flags);
absl::StatusOr<std::optional<double>> DurationSeconds(const std::optional<std::string>& flag);

}  // namespace bikestream::cli
