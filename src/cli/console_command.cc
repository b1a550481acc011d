// `bikestream console`: the pipeline, the stations, the features and the dead letters as pages
// in a browser (docs/console.md), served until Ctrl-C.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/feature_flags.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/status.h"
#include "console/console_server.h"
#include "job/signals.h"

namespace bikestream::cli {
namespace {

struct ConsoleFlags {
  WarehouseFlags warehouse;
  std::string feature_file;
  std::string listen = "127.0.0.1:8080";
  std::string token;
  std::string admin_token;
};

// What the first read would sum (docs/adr/0008), summed before the first page asks. A failure
// is told and the console serves on: the views that do not need it still work.
void CatchUpBeforeServing(Warehouse& warehouse) {
  const TimestampMicros start = SystemClock().Now();
  auto caught_up = warehouse.CatchUp();
  if (!caught_up.ok()) {
    Print(stderr, "the stations views will fail until this is fixed: {}\n",
          MessageOf(caught_up.status()));
  } else if (*caught_up) {
    Print(stderr, "15-minute totals brought up to date with raw_events in {:.2f} s\n",
          double(SystemClock().Now() - start) / kMicrosPerSecond);
  }
}

int RunConsole(const ConsoleFlags& flags) {
  auto features = FeaturesFromFlag(flags.feature_file);
  if (!features.ok()) return Fail(features.status());
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse, OpenMode::kMustExist);
  if (!warehouse.ok()) return Fail(warehouse.status());
  CatchUpBeforeServing(**warehouse);
  ConsoleApi api(ConsoleWarehouse(**warehouse), WarehouseUrlForPeople(flags.warehouse),
                 std::move(*features));
  JobWatcher jobs({.state_dir = DefaultStateDir(),
                   .admin_token = flags.admin_token,
                   .warehouse = WarehouseUrlOfStore(flags.warehouse)});
  auto server = ConsoleServer::Start({.listen = flags.listen, .token = flags.token}, api, jobs);
  if (!server.ok()) return Fail(server.status());
  jobs.Start();
  Print(stderr, "console of {} at http://{}/{} (Ctrl-C stops it)\n",
        WarehouseUrlForPeople(flags.warehouse), (*server)->address(),
        flags.token.empty() ? "" : "#token=TOKEN");
  WaitForStopSignal();
  return kExitOk;
}

}  // namespace

void AddConsoleCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ConsoleFlags>();
  CLI::App* command =
      app.add_subcommand("console", "Serve a live console of the pipeline, stations and features");
  AddWarehouseOptions(command, &flags->warehouse);
  AddFeatureFileOption(command, &flags->feature_file);
  command->add_option("--listen", flags->listen, "HOST:PORT to serve on (port 0: any free one)")
      ->capture_default_str();
  Secret(command
             ->add_option("--token", flags->token,
                          "Secret every /api/ request must carry (Authorization: Bearer TOKEN; the "
                          "page asks for "
                          "it once, or takes it from #token= in its address); needed to listen off "
                          "loopback. Falls "
                          "back to $BIKESTREAM_CONSOLE_TOKEN")
             ->envname("BIKESTREAM_CONSOLE_TOKEN"));
  AddAdminTokenOption(command, &flags->admin_token);
  command->footer(
      "Pages: Pipeline (the streaming jobs on this machine, with drain and cancel), Stations "
      "(activity per\n"
      "15 minutes, the busiest, a map), Features (station_features over time), Dead letters (by "
      "reason,\n"
      "samples, replay). They refresh every few seconds. The JSON under /api/ is documented in\n"
      "docs/console.md. Example:\n"
      "  bikestream console --warehouse sqlite:oslo.db   # then open http://127.0.0.1:8080/");
  command->callback([flags, &exit_code] { exit_code = RunConsole(*flags); });
}

}  // namespace bikestream::cli
