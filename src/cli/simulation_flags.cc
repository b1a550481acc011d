#include "cli/simulation_flags.h"

#include <fmt/format.h>

#include <random>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "common/status.h"

namespace bikestream::cli {

void AddSimulationOptions(CLI::App* c, SimulationFlags* f) {
  c->add_option("--mode", f->mode,
                "sparse: a few stations, one event every 1-3 s (the original sensors script); "
                "stream: a busy city at --rate events/s")
      ->check(CLI::IsMember({"sparse", "stream"}))
      ->capture_default_str();
  c->add_option("--rate", f->options.rate,
                fmt::format("Stream mode: events per second, {}..{}; 0 = as fast as possible",
                            kMinSimulatedRate, kMaxSimulatedRate))
      ->check(CLI::Range(0.0, kMaxSimulatedRate))
      ->capture_default_str();
  c->add_option("--count", f->count, "Stop after N messages (duplicates and invalid ones included)")
      ->check(CLI::Range(std::uint64_t{1}, kMaxCount));
  c->add_option("--duration", f->duration, "Stop after this long, e.g. 30s, 5m, 1h");
  c->add_option("--stations", f->stations,
                "Number of stations (sparse default: A_101 A_205 A_310; stream default: 50)")
      ->check(CLI::Range(1, kMaxStations));
  c->add_option("--seed", f->seed, "Random seed: the same seed gives the same stream");
  c->add_option("--run-id", f->run_id,
                "Per-run part of event ids (e-RUN-N); pin it with --seed and --start to replay "
                "exactly. Default: random");
  c->add_option("--start", f->start, "Event time of the first event, RFC 3339, or 'now'")
      ->capture_default_str();
  c->add_option("--speedup", f->options.speedup,
                "Event-time seconds per wall second, e.g. 3600 for an hour per second")
      ->check(CLI::Range(kMinSpeedup, kMaxSpeedup))
      ->capture_default_str();
  c->add_option("--duplicate-rate", f->options.duplicate_rate,
                "Share of messages that repeat an earlier event (0..1)");
  c->add_option("--invalid-rate", f->options.invalid_rate,
                "Share of messages that are bad input of every kind (0..1)");
  c->add_option("--late-rate", f->options.late_rate,
                "Share of events with a late timestamp (0..1)");
  c->add_option("--late-by", f->late_by, "How late those events are, at most")
      ->capture_default_str();
}

absl::StatusOr<std::optional<double>> DurationSeconds(const std::optional<std::string>& flag) {
  if (!flag) return std::nullopt;
  // Up to ten years: a run that is meant to go on without end needs no --duration.
  auto micros = DurationFlag("--duration", *flag, kSecond, 3660 * kDay);
  if (!micros.ok()) return micros.status();
  return double(*micros) / kMicrosPerSecond;
}

absl::StatusOr<SimulatorOptions> ResolveSimulation(SimulationFlags& f) {
  SimulatorOptions options = f.options;
  options.mode = f.mode == "stream" ? SimulationMode::kStream : SimulationMode::kSparse;
  if (f.stations) options.stations = *f.stations;
  options.seed = f.seed ? *f.seed : std::random_device{}();
  options.run_id = f.run_id ? *f.run_id : RandomRunId();
  if (f.start == "now") {
    options.start = SystemClock().Now() / kMicrosPerSecond * kMicrosPerSecond;
  } else {
    auto start = ParseTimestamp(f.start);
    if (!start.ok())
      return absl::InvalidArgumentError(fmt::format("--start: {}", MessageOf(start.status())));
    options.start = *start;
  }
  auto late_by = DurationFlag("--late-by", f.late_by, kSecond, kMaxFlagDuration);
  if (!late_by.ok()) return late_by.status();
  options.late_by = *late_by;
  if (auto status = ValidateSimulatorOptions(options); !status.ok()) return status;
  return options;
}

}  // namespace bikestream::cli
