// `bikestream run`: simulate → in-process broker → ingest, end to end on one machine.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/feature_flags.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "cli/simulation_flags.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "job/inproc_job.h"
#include "job/signals.h"

namespace bikestream::cli {
namespace {

struct RunFlags {
  SimulationFlags simulation;
  WarehouseFlags warehouse;
  bool json = false;
  std::size_t show_rows = 5;
  StreamingFeatureFlags features;
};

constexpr std::uint64_t kDemoCount = 20;

int RunRun(RunFlags& flags) {
  auto options = ResolveSimulation(flags.simulation);
  if (!options.ok()) return Fail(options.status());
  auto duration = DurationSeconds(flags.simulation.duration);
  if (!duration.ok()) return Fail(duration.status());
  auto warehouse = OpenSetUpWarehouse(flags.warehouse);
  if (!warehouse.ok()) return Fail(warehouse.status());
  auto sink = MakeFeatureSink(flags.features, **warehouse);
  if (!sink.ok()) return Fail(sink.status());

  InprocJobOptions job;
  job.observer = sink->get();
  job.count = flags.simulation.count;
  job.duration_seconds = *duration;
  job.source = fmt::format("inproc:{}", options->run_id);
  // Without a limit a sparse demo would run forever; a stream user asked for one explicitly.
  if (!job.count && !job.duration_seconds && options->mode == SimulationMode::kSparse) {
    job.count = kDemoCount;
  }
  if (!flags.json) {
    Print(stderr, "run: {} mode, seed {}, run id {}, into {}{}\n", flags.simulation.mode,
          options->seed, options->run_id, WarehouseUrlForPeople(flags.warehouse),
          job.count ? fmt::format(", {} messages", *job.count) : "");
  }
  Simulator simulator(*options);
  const std::atomic<bool>& stop = InstallStopHandlers();
  absl::StatusOr<InprocJobResult> result;
  {
    ProgressLine progress;
    result = RunInprocJob(simulator, **warehouse, job, stop,
                          [&](const IngestStats& s) { progress.Update(s); });
  }
  if (!result.ok()) return Fail(result.status());
  if (*sink) {
    Print(stderr, "streaming features: {} ticks written, {} events too late to rewrite theirs\n",
          (*sink)->ticks_written(), (*sink)->too_late());
  }
  if (flags.json) {
    Print("{}\n", SummaryJson(result->stats, result->seconds));
    return kExitOk;
  }
  Print(stderr, "{}\n", SummaryLine(result->stats, result->seconds));
  if (flags.show_rows > 0) {
    auto rows =
        (*warehouse)
            ->Query(fmt::format(
                "SELECT * FROM raw_events WHERE event_id LIKE 'e-{}-%' ORDER BY ts_iso LIMIT {}",
                options->run_id, flags.show_rows));
    if (!rows.ok()) return Fail(rows.status());
    Print("\nFirst rows of this run in raw_events:\n");
    PrintResult(stdout, *rows, TableFormat::kTable);
  }
  return kExitOk;
}

}  // namespace

void AddRunCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* command = app.add_subcommand(
      "run", "Simulate and ingest in one process (in-process broker) into the warehouse");
  command->footer(
      "Examples:\n"
      "  bikestream run                          # a sparse demo of 20 events, then a few rows\n"
      "  bikestream run --mode stream --count 1000000 --duplicate-rate 0.01 --invalid-rate 0.01\n"
      "  bikestream run --mode stream --rate 2000 --duration 1m --json\n"
      "Ctrl-C stops the simulator; what was sent is still committed. A second Ctrl-C quits at "
      "once.");
  AddSimulationOptions(command, &flags->simulation);
  AddWarehouseOptions(command, &flags->warehouse);
  AddCommitDelayOption(command, &flags->warehouse);
  command->add_flag("--json", flags->json,
                    "Print one final JSON object: received, stored, duplicates, dead_lettered, "
                    "seconds, events_per_s");
  command->add_option("--show", flags->show_rows, "Rows of raw_events to show at the end")
      ->check(CLI::Range(std::size_t{0}, kMaxRows))
      ->capture_default_str();
  AddStreamingFeatureOptions(command, &flags->features);
  command->callback([flags, &exit_code] { exit_code = RunRun(*flags); });
}

}  // namespace bikestream::cli
