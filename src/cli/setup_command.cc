// `bikestream setup`: creates the tables, idempotently.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"

namespace bikestream::cli {

void AddSetupCommand(CLI::App& app, int& exit_code) {
  auto url = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "setup", "Create raw_events, station_features and dead_letter (safe to run again)");
  AddWarehouseOption(command, url.get());
  command->callback([url, &exit_code] {
    auto warehouse = OpenWarehouseFromFlags(*url);
    if (!warehouse.ok()) {
      exit_code = Fail(warehouse.status());
      return;
    }
    if (auto status = (*warehouse)->Setup(); !status.ok()) {
      exit_code = Fail(status);
      return;
    }
    fmt::print("tables ready in {}\n", *url);
    exit_code = kExitOk;
  });
}

}  // namespace bikestream::cli
