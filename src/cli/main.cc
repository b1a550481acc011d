// bikestream: sensor events landed exactly once in a warehouse. The commands live beside this
// file, one each; the work is done by the libraries under src/.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <system_error>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "common/print.h"

// What may still throw here is a bug in a command's flag definitions (CLI11 throws on them) or
// running out of memory: terminating with the exception's message is the right end for both.
namespace {

// The command's exit code, or a failure when its output could not be written for any reason
// but a reader that went away (`| head`: the person has what they wanted).
int FinishOutput(int exit_code) {
  using namespace bikestream;
  const int error = FlushStdout();
  if (error == 0 || error == EPIPE || exit_code != cli::kExitOk) return exit_code;
  return cli::Fail(fmt::format("could not write the output: {} (is the disk full?)",
                               std::generic_category().message(error)));
}

}  // namespace

int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace bikestream::cli;
  // A reader that goes away (`| head`) must not kill a job mid-commit: a failed write is an
  // error to handle (common/print.h), not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  RegisterSecretsOfInvocation(argc, argv);
  CLI::App app{
      "bikestream: bike-station sensor events, ingested exactly once into a warehouse.\n"
      "Start with `bikestream run` (simulate + ingest into sqlite:bikestream.db), then\n"
      "`bikestream show raw_events`."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bikestream " BIKESTREAM_VERSION);
  int exit_code = kExitOk;
  AddRunCommand(app, exit_code);
  AddSimulateCommand(app, exit_code);
  AddGbfsCommand(app, exit_code);
  AddSetupCommand(app, exit_code);
  AddIngestCommand(app, exit_code);
  AddShowCommand(app, exit_code);
  AddQueryCommand(app, exit_code);
  AddDeadLetterCommand(app, exit_code);
  AddJobsCommand(app, exit_code);
  AddFeaturesCommand(app, exit_code);
  AddTrainingSetCommand(app, exit_code);
  AddConsoleCommand(app, exit_code);
  AddServeCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return FinishOutput(exit_code);
}
