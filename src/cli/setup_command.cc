// `bikestream setup`: the tables and, when a project is given, the Pub/Sub topic and
// subscription; every step idempotent.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/pubsub_flags.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/redact.h"

namespace bikestream::cli {
namespace {

struct SetupFlags {
  WarehouseFlags warehouse;
  PubsubFlags pubsub;
  int ack_deadline_seconds = 60;
  std::string push_endpoint;
};

bool WantsPubsub(const SetupFlags& flags) {
  return !flags.pubsub.project.empty() || !flags.pubsub.topic.empty() ||
         !flags.pubsub.subscription.empty() || std::getenv("PUBSUB_TOPIC") ||
         std::getenv("SUBSCRIPTION");
}

int RunSetup(SetupFlags& flags) {
  if (WantsPubsub(flags)) {
    if (auto status = ResolvePubsubFlags(&flags.pubsub, true, true); !status.ok())
      return Fail(status);
    auto opened = pubsub::MakeConnection(PubsubConnectionOptions(flags.pubsub));
    if (!opened.ok()) return Fail(opened.status());
    auto& connection = *opened;
    const auto& p = flags.pubsub;
    if (auto status = connection->CreateTopic(p.project, p.topic); !status.ok())
      return Fail(status);
    Print("topic ready: projects/{}/topics/{}\n", p.project, p.topic);
    if (auto status =
            connection->CreateSubscription({.project = p.project,
                                            .subscription = p.subscription,
                                            .topic = p.topic,
                                            .ack_deadline_seconds = flags.ack_deadline_seconds,
                                            .push_endpoint = flags.push_endpoint});
        !status.ok()) {
      return Fail(status);
    }
    Print("subscription ready: projects/{}/subscriptions/{}{}\n", p.project, p.subscription,
          flags.push_endpoint.empty() ? "" : " (push to " + RedactUrl(flags.push_endpoint) + ")");
  }
  if (auto warehouse = OpenSetUpWarehouse(flags.warehouse); !warehouse.ok())
    return Fail(warehouse.status());
  Print("tables ready in {}\n", WarehouseUrlForPeople(flags.warehouse));
  return kExitOk;
}

}  // namespace

void AddSetupCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<SetupFlags>();
  CLI::App* command = app.add_subcommand(
      "setup",
      "Create the tables and, with a project, the Pub/Sub topic and subscription "
      "(safe to run again)");
  command->footer(
      "Examples:\n"
      "  bikestream setup\n"
      "  PUBSUB_EMULATOR_HOST=127.0.0.1:8085 bikestream setup --project demo --topic bike-events "
      "\\\n"
      "      --subscription bike-ingest");
  AddWarehouseOptions(command, &flags->warehouse);
  AddPubsubOptions(command, &flags->pubsub, true, true);
  command
      ->add_option("--ack-deadline", flags->ack_deadline_seconds,
                   "Seconds Pub/Sub waits for an ack before redelivering")
      ->check(CLI::Range(10, 600))
      ->capture_default_str();
  command->add_option("--push-endpoint", flags->push_endpoint,
                      "Make the subscription push to this URL (see `ingest --push-listen`)");
  command->callback([flags, &exit_code] { exit_code = RunSetup(*flags); });
}

}  // namespace bikestream::cli
