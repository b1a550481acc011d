// `bikestream jobs list|describe|drain|cancel`: the streaming jobs on this machine, as
// `gcloud dataflow jobs`.
#include <fmt/format.h>
#include <httplib.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/print.h"
#include "common/redact.h"
#include "job/admin_client.h"
#include "job/job_registry.h"

namespace bikestream::cli {
namespace {

constexpr std::chrono::seconds kAdminTimeout(5);

// One request to a job's admin endpoint; a refusal (another job's endpoint, a missing token) is
// an error for a person.
absl::StatusOr<httplib::Result> Ask(const JobRecord& job, const std::string& method,
                                    const std::string& path, const std::string& token) {
  httplib::Result result = AskJob(job, token, method == "POST", path, kAdminTimeout);
  if (!result) {
    return absl::UnavailableError(fmt::format("job {} does not answer at {}: {}", job.id, job.admin,
                                              WhyNoAnswer(result.error(), kAdminTimeout)));
  }
  if (result->status == 404 || result->status == 401) {
    return absl::FailedPreconditionError(
        fmt::format("job {} at {}: {}", job.id, job.admin, RemoteText(result->body)));
  }
  return result;
}

std::string StateOf(const JobRecord& job, const std::string& token) {
  auto reply = Ask(job, "GET", "/job", token);
  if (!reply.ok()) return "UNKNOWN";
  const std::string& body = (*reply)->body;
  const auto key = body.find("\"state\":\"");
  if (key == std::string::npos) return "UNKNOWN";
  const auto start = key + 9;
  return body.substr(start, body.find('"', start) - start);
}

int List(const std::string& token) {
  QueryResult table;
  table.columns = {"JOB_ID", "STATE", "SOURCE", "WAREHOUSE", "STARTED", "ADMIN"};
  for (const JobRecord& job : JobRegistry(DefaultStateDir()).List()) {
    table.rows.push_back({{job.id},
                          {StateOf(job, token)},
                          {job.source},
                          {job.warehouse},
                          {job.started},
                          {job.admin}});
  }
  if (table.rows.empty()) {
    Print(stderr, "no streaming jobs running on this machine\n");
    return kExitOk;
  }
  PrintResult(stdout, table, TableFormat::kTable);
  return kExitOk;
}

int Act(const std::string& id, const std::string& method, const std::string& path,
        const std::string& token) {
  auto job = JobRegistry(DefaultStateDir()).Find(id);
  if (!job.ok()) return Fail(job.status());
  auto reply = Ask(*job, method, path, token);
  if (!reply.ok()) return Fail(reply.status());
  if ((*reply)->status == 409) {
    return Fail(fmt::format("job {} cannot do that now: {}", job->id, RemoteText((*reply)->body)));
  }
  Print("{}", (*reply)->body);
  return kExitOk;
}

}  // namespace

void AddJobsCommand(CLI::App& app, int& exit_code) {
  auto id = std::make_shared<std::string>();
  auto token = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "jobs", "List, describe, drain or cancel the streaming jobs on this machine");
  command->require_subcommand(1);
  command->footer(
      "Jobs register in $BIKESTREAM_STATE_DIR (default ~/.local/state/bikestream) while they run.\n"
      "drain: stop pulling, commit and ack what is in flight, exit DRAINED.\n"
      "cancel: stop now; what is not committed is redelivered later. Exit CANCELLED.");
  AddAdminTokenOption(command, token.get());
  CLI::App* list = command->add_subcommand("list", "The running jobs and their state");
  list->fallthrough();  // `jobs list --admin-token T` takes the parent's flag.
  list->callback([token, &exit_code] { exit_code = List(*token); });
  for (auto [name, help, method, path] :
       {std::tuple{"describe", "The job as JSON: state, counters, where it reads and writes", "GET",
                   "/job"},
        std::tuple{"drain", "Drain the job (as SIGTERM)", "POST", "/drain"},
        std::tuple{"cancel", "Cancel the job (as SIGINT)", "POST", "/cancel"}}) {
    CLI::App* sub = command->add_subcommand(name, help);
    sub->fallthrough();
    sub->add_option("job", *id, "Job id, or a unique prefix of it")->required();
    sub->callback([id, token, method = std::string(method), path = std::string(path), &exit_code] {
      exit_code = Act(*id, method, path, *token);
    });
  }
}

}  // namespace bikestream::cli
