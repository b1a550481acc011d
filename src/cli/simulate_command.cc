// `bikestream simulate`: sensor events to stdout.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "simulator/pacer.h"

namespace bikestream::cli {
namespace {

struct SimulateFlags {
  SimulationFlags simulation;
  std::string to = "stdout";
  std::string format;  // Default depends on the mode.
};

int RunSimulate(SimulateFlags& flags) {
  if (flags.to == "inproc") {
    return Fail("the in-process broker lives inside one process: use `bikestream run`, which "
                "simulates and ingests together");
  }
  if (flags.to != "stdout") {
    return Fail(fmt::format("--to {}: not available yet; use --to stdout", flags.to));
  }
  auto options = ResolveSimulation(flags.simulation);
  if (!options.ok()) return Fail(options.status());
  auto duration = DurationSeconds(flags.simulation.duration);
  if (!duration.ok()) return Fail(duration.status());
  if (flags.format.empty()) flags.format = flags.simulation.mode == "sparse" ? "published" : "jsonl";
  const bool published = flags.format == "published";

  const std::atomic<bool>& stop = InstallStopHandlers();
  Simulator simulator(*options);
  const Pacer pacer;
  auto should_stop = [&] { return stop.load(); };
  fmt::print(stderr, "simulating {} mode: seed {}, run id {}, {} stations\n",
             flags.simulation.mode, options->seed, options->run_id,
             simulator.station_names().size());
  while (!stop) {
    if (flags.simulation.count && simulator.stats().messages >= *flags.simulation.count) break;
    if (*duration && pacer.ElapsedSeconds() >= **duration) break;
    SimulatedMessage message = simulator.Next();
    pacer.WaitUntil(message.due_seconds, should_stop);
    if (published) {
      fmt::print("Published: {}\n", message.payload);
      std::fflush(stdout);
    } else {
      fmt::print("{}\n", message.payload);
    }
  }
  std::fflush(stdout);
  const SimulatorStats& s = simulator.stats();
  fmt::print(stderr,
             "simulated {} messages ({} valid, {} duplicates, {} invalid, {} late) in {:.1f} s\n",
             s.messages, s.valid, s.duplicates, s.invalid, s.late, pacer.ElapsedSeconds());
  return std::ferror(stdout) ? Fail("could not write to stdout") : kExitOk;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* command = app.add_subcommand("simulate", "Simulate bike-station sensors");
  command->footer(
      "Examples:\n"
      "  bikestream simulate                         # sparse, like the original sensors script\n"
      "  bikestream simulate --mode stream --rate 5000 --count 100000 > events.jsonl\n"
      "  bikestream simulate --mode stream --start 2025-10-18T00:00:00Z --speedup 3600 \\\n"
      "      --rate 10000 --duration 24s             # a day of event time in 24 s\n"
      "  bikestream simulate --mode stream --count 1000 --invalid-rate 0.05 --duplicate-rate 0.05");
  AddSimulationOptions(command, &flags->simulation);
  command->add_option("--to", flags->to, "Where events go: stdout (inproc is what `run` uses)")
      ->capture_default_str();
  command->add_option("--format", flags->format,
                      "jsonl: one JSON event a line; published: 'Published: {json}' lines. "
                      "Default: published in sparse mode, jsonl in stream mode")
      ->check(CLI::IsMember({"jsonl", "published"}));
  command->callback([flags, &exit_code] { exit_code = RunSimulate(*flags); });
}

}  // namespace bikestream::cli
