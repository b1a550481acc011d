// `bikestream simulate`: sensor events to stdout.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/publisher_flags.h"
#include "cli/pubsub_flags.h"
#include "cli/simulation_flags.h"
#include "common/print.h"
#include "job/signals.h"
#include "simulator/pacer.h"

namespace bikestream::cli {
namespace {

struct SimulateFlags {
  SimulationFlags simulation;
  std::string to = "stdout";
  std::string format;  // Default depends on the mode.
  PubsubFlags pubsub;
  int publish_concurrency = 4;
  MqttFlags mqtt;
};

int RunSimulate(SimulateFlags& flags) {
  if (flags.to == "inproc") {
    return Fail(
        "the in-process broker lives inside one process: use `bikestream run`, which "
        "simulates and ingests together");
  }
  auto options = ResolveSimulation(flags.simulation);
  if (!options.ok()) return Fail(options.status());
  auto duration = DurationSeconds(flags.simulation.duration);
  if (!duration.ok()) return Fail(duration.status());
  if (flags.format.empty())
    flags.format = flags.simulation.mode == "sparse" ? "published" : "jsonl";
  // Says each message was sent, as the original script did.
  auto sink = OpenPublisherFromFlags({.to = flags.to,
                                      .published_lines = flags.format == "published",
                                      .confirm_each = flags.simulation.mode == "sparse",
                                      .publish_concurrency = flags.publish_concurrency},
                                     flags.pubsub, flags.mqtt);
  if (!sink.ok()) return Fail(sink.status());

  const std::atomic<bool>& stop = InstallStopHandlers();
  Simulator simulator(*options);
  const Pacer pacer;
  auto should_stop = [&] { return stop.load(); };
  Print(stderr, "simulating {} mode: seed {}, run id {}, {} stations\n", flags.simulation.mode,
        options->seed, options->run_id, simulator.station_names().size());
  ProgressLine progress;
  while (!stop) {
    if (flags.simulation.count && simulator.stats().messages >= *flags.simulation.count) break;
    if (*duration && pacer.ElapsedSeconds() >= **duration) break;
    SimulatedMessage message = simulator.Next();
    pacer.WaitUntil(message.due_seconds, should_stop);
    if (auto status = (*sink)->Send(message.payload); !status.ok()) {
      return StdoutReaderGone() ? kExitOk : Fail(status);
    }
    if (flags.to != "stdout") {
      progress.Show(fmt::format("sent {}", simulator.stats().messages), simulator.stats().messages);
    }
  }
  absl::Status finished = FinishPublishing(**sink);
  progress.Done();
  const SimulatorStats& s = simulator.stats();
  const double seconds = pacer.ElapsedSeconds();
  const double rate = seconds > 0 ? s.messages / seconds : 0.0;
  Print(stderr,
        "simulated {} messages ({} valid, {} duplicates, {} invalid, {} late) in {:.1f} s "
        "({:.{}f}/s)\n",
        s.messages, s.valid, s.duplicates, s.invalid, s.late, seconds, rate, rate < 100 ? 1 : 0);
  return finished.ok() || StdoutReaderGone() ? kExitOk : Fail(finished);
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
      "  bikestream simulate --mode stream --count 1000 --invalid-rate 0.05 --duplicate-rate 0.05\n"
      "  PUBSUB_EMULATOR_HOST=127.0.0.1:8085 bikestream simulate --to pubsub --project demo \\\n"
      "      --topic bike-events\n"
      "  bikestream simulate --mode stream --count 100000 --to mqtt://127.0.0.1:1883/bikes/events");
  AddSimulationOptions(command, &flags->simulation);
  command
      ->add_option(
          "--to", flags->to,
          "Where events go: stdout, pubsub (--project, --topic; $PUBSUB_EMULATOR_HOST for the "
          "emulator), or an MQTT topic, mqtt://HOST[:PORT]/TOPIC (QoS 1; mqtts:// for TLS). "
          "inproc is what `run` uses")
      ->check(MessageDestinations({"stdout", "pubsub", "inproc"}))
      ->capture_default_str();
  AddPubsubOptions(command, &flags->pubsub, true, false);
  command
      ->add_option("--publish-concurrency", flags->publish_concurrency,
                   "Publish requests in flight (--to pubsub)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  AddMqttOptions(command, &flags->mqtt, false);
  command
      ->add_option("--format", flags->format,
                   "jsonl: one JSON event a line; published: 'Published: {json}' lines. "
                   "Default: published in sparse mode, jsonl in stream mode")
      ->check(CLI::IsMember({"jsonl", "published"}));
  command->callback([flags, &exit_code] { exit_code = RunSimulate(*flags); });
}

}  // namespace bikestream::cli
