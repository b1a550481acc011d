// `bikestream simulate`: sensor events to stdout.
#include <fmt/format.h>

#include <system_error>

#include "cli/cli_common.h"
#include "cli/pubsub_flags.h"
#include "cli/simulation_flags.h"
#include "cli/progress_line.h"
#include "cli/commands.h"
#include "common/print.h"
#include "job/signals.h"
#include "pubsub/publisher.h"
#include "simulator/pacer.h"

namespace bikestream::cli {
namespace {

struct SimulateFlags {
  SimulationFlags simulation;
  std::string to = "stdout";
  std::string format;  // Default depends on the mode.
  PubsubFlags pubsub;
  int publish_concurrency = 4;
};

// Writes each message to stdout, or publishes it; says so as the original script did.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual absl::Status Send(const std::string& payload) = 0;
  virtual absl::Status Finish() = 0;
};

class StdoutSink final : public Sink {
 public:
  explicit StdoutSink(bool published) : published_(published) {}
  absl::Status Send(const std::string& payload) override {
    if (published_) {
      Print("Published: {}\n", payload);
      std::fflush(stdout);
    } else {
      Print("{}\n", payload);
    }
    // The events are the command's work: once nobody reads them (`| head`), stop.
    return StdoutWriteError() != 0 ? Closed() : absl::OkStatus();
  }
  absl::Status Finish() override {
    return FlushStdout() != 0 ? Closed() : absl::OkStatus();
  }

 private:
  static absl::Status Closed() {
    return absl::UnavailableError(
        fmt::format("could not write to stdout: {}", std::generic_category().message(StdoutWriteError())));
  }
  bool published_;
};

class PubsubSink final : public Sink {
 public:
  PubsubSink(std::unique_ptr<pubsub::PubsubConnection> connection, pubsub::PublisherOptions options,
             bool confirm_each)
      : connection_(std::move(connection)),
        publisher_(*connection_, std::move(options)),
        confirm_each_(confirm_each) {}

  absl::Status Send(const std::string& payload) override {
    publisher_.Publish(payload);
    if (!confirm_each_) return absl::OkStatus();
    // Sparse mode, as the original script: wait for the service, then say so.
    if (auto status = publisher_.Flush(); !status.ok()) return status;
    Print("Published: {}\n", payload);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    absl::Status status = publisher_.Flush();
    const auto stats = publisher_.stats();
    if (!confirm_each_) {
      Print(stderr, "published {} messages in {} requests{}\n", stats.published, stats.requests,
                 stats.failed ? fmt::format(", {} FAILED", stats.failed) : "");
    }
    return status;
  }
  std::uint64_t published() const { return publisher_.stats().published; }

 private:
  std::unique_ptr<pubsub::PubsubConnection> connection_;
  pubsub::BatchPublisher publisher_;
  bool confirm_each_;
};

absl::StatusOr<std::unique_ptr<Sink>> MakeSink(SimulateFlags& flags, bool published) {
  if (flags.to == "stdout") return std::make_unique<StdoutSink>(published);
  if (auto status = ResolvePubsubFlags(&flags.pubsub, true, false); !status.ok()) return status;
  auto opened = MakePubsubConnection(flags.pubsub);
  if (!opened.ok()) return opened.status();
  auto connection = std::move(*opened);
  // Fail fast, with the service's own words, when the topic is not there.
  if (auto status = connection->GetTopic(flags.pubsub.project, flags.pubsub.topic); !status.ok()) {
    return status;
  }
  return std::make_unique<PubsubSink>(
      std::move(connection),
      pubsub::PublisherOptions{.project = flags.pubsub.project,
                               .topic = flags.pubsub.topic,
                               .concurrency = flags.publish_concurrency},
      flags.simulation.mode == "sparse");
}

int RunSimulate(SimulateFlags& flags) {
  if (flags.to == "inproc") {
    return Fail("the in-process broker lives inside one process: use `bikestream run`, which "
                "simulates and ingests together");
  }
  auto options = ResolveSimulation(flags.simulation);
  if (!options.ok()) return Fail(options.status());
  auto duration = DurationSeconds(flags.simulation.duration);
  if (!duration.ok()) return Fail(duration.status());
  if (flags.format.empty()) flags.format = flags.simulation.mode == "sparse" ? "published" : "jsonl";
  auto sink = MakeSink(flags, flags.format == "published");
  if (!sink.ok()) return Fail(sink.status());

  const std::atomic<bool>& stop = InstallStopHandlers();
  Simulator simulator(*options);
  const Pacer pacer;
  auto should_stop = [&] { return stop.load(); };
  Print(stderr, "simulating {} mode: seed {}, run id {}, {} stations\n",
             flags.simulation.mode, options->seed, options->run_id,
             simulator.station_names().size());
  ProgressLine progress;
  while (!stop) {
    if (flags.simulation.count && simulator.stats().messages >= *flags.simulation.count) break;
    if (*duration && pacer.ElapsedSeconds() >= **duration) break;
    SimulatedMessage message = simulator.Next();
    pacer.WaitUntil(message.due_seconds, should_stop);
    if (auto status = (*sink)->Send(message.payload); !status.ok()) return Fail(status);
    if (flags.to != "stdout") {
      progress.Show(fmt::format("sent {}", simulator.stats().messages), simulator.stats().messages);
    }
  }
  absl::Status finished = (*sink)->Finish();
  progress.Done();
  const SimulatorStats& s = simulator.stats();
  const double seconds = pacer.ElapsedSeconds();
  const double rate = seconds > 0 ? s.messages / seconds : 0.0;
  Print(stderr,
             "simulated {} messages ({} valid, {} duplicates, {} invalid, {} late) in {:.1f} s "
             "({:.{}f}/s)\n",
             s.messages, s.valid, s.duplicates, s.invalid, s.late, seconds, rate, rate < 100 ? 1 : 0);
  return finished.ok() ? kExitOk : Fail(finished);
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
      "      --topic bike-events");
  AddSimulationOptions(command, &flags->simulation);
  command->add_option("--to", flags->to,
                      "Where events go: stdout, or pubsub (--project, --topic; "
                      "$PUBSUB_EMULATOR_HOST for the emulator). inproc is what `run` uses")
      ->check(CLI::IsMember({"stdout", "pubsub", "inproc"}))
      ->capture_default_str();
  AddPubsubOptions(command, &flags->pubsub, true, false);
  command->add_option("--publish-concurrency", flags->publish_concurrency,
                      "Publish requests in flight (--to pubsub)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  command->add_option("--format", flags->format,
                      "jsonl: one JSON event a line; published: 'Published: {json}' lines. "
                      "Default: published in sparse mode, jsonl in stream mode")
      ->check(CLI::IsMember({"jsonl", "published"}));
  command->callback([flags, &exit_code] { exit_code = RunSimulate(*flags); });
}

}  // namespace bikestream::cli
