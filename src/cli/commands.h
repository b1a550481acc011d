// The subcommands of `bikestream`, one file each. Each registers itself on `app`; when it runs,
// its callback stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace bikestream::cli {

void AddSimulateCommand(CLI::App& app, int& exit_code);
void AddGbfsCommand(CLI::App& app, int& exit_code);
void AddSetupCommand(CLI::App& app, int& exit_code);
void AddIngestCommand(CLI::App& app, int& exit_code);
void AddRunCommand(CLI::App& app, int& exit_code);
void AddShowCommand(CLI::App& app, int& exit_code);
void AddQueryCommand(CLI::App& app, int& exit_code);
void AddDeadLetterCommand(CLI::App& app, int& exit_code);
void AddJobsCommand(CLI::App& app, int& exit_code);
void AddFeaturesCommand(CLI::App& app, int& exit_code);
void AddTrainingSetCommand(CLI::App& app, int& exit_code);
void AddConsoleCommand(CLI::App& app, int& exit_code);
void AddServeCommand(CLI::App& app, int& exit_code);

}  // namespace bikestream::cli
