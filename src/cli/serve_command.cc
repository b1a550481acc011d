// `bikestream serve`: the latest features of stations over HTTP, for a model at inference
// (docs/serving.md), served until Ctrl-C.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/feature_flags.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/status.h"
#include "job/signals.h"
#include "serving/feature_server.h"

namespace bikestream::cli {
namespace {

struct ServeFlags {
  WarehouseFlags warehouse;
  std::string feature_file;
  std::string listen = "127.0.0.1:8090";
  std::string token;
  std::string ttl;
  std::string past_ttl = "stale";
  double poll_seconds = 0.25;
  double reread_seconds = 5;
};

int Serve(const ServeFlags& flags) {
  auto features = FeaturesFromFlag(flags.feature_file);
  if (!features.ok()) return Fail(features.status());
  FeatureServerOptions options{
      .listen = flags.listen,
      .token = flags.token,
      .poll = DurationMicros(flags.poll_seconds * double(kMicrosPerSecond)),
      .reread = DurationMicros(flags.reread_seconds * double(kMicrosPerSecond))};
  if (!flags.ttl.empty()) {
    auto ttl = DurationFlag("--ttl", flags.ttl, kSecond, 365 * kDay);
    if (!ttl.ok()) return Fail(ttl.status());
    options.rules.ttl = *ttl;
  }
  options.rules.past_ttl = flags.past_ttl == "absent" ? PastTtl::kAbsent : PastTtl::kStale;
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse, OpenMode::kMustExist);
  if (!warehouse.ok()) return Fail(warehouse.status());
  auto server = FeatureServer::Start(options, **warehouse, FeatureNames(*features), SystemClock());
  if (!server.ok()) return Fail(server.status());
  Print(stderr,
        "features of {} at http://{}/v1/features?station_id=... (Ctrl-C stops it)\n"
        "a new tick is looked for every {:g} s, the latest read again every {:g} s\n",
        WarehouseUrlForPeople(flags.warehouse), (*server)->address(), flags.poll_seconds,
        flags.reread_seconds);
  WaitForStopSignal();
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* command = app.add_subcommand(
      "serve", "Serve the latest features of stations over HTTP, for a model at inference");
  AddWarehouseOptions(command, &flags->warehouse);
  AddFeatureFileOption(command, &flags->feature_file);
  command->add_option("--listen", flags->listen, "HOST:PORT to serve on (port 0: any free one)")
      ->capture_default_str();
  Secret(command
             ->add_option("--token", flags->token,
                          "Secret every request but /healthz must carry (Authorization: Bearer "
                          "TOKEN); "
                          "needed to listen off loopback. Falls back to $BIKESTREAM_SERVE_TOKEN")
             ->envname("BIKESTREAM_SERVE_TOKEN"));
  command->add_option("--ttl", flags->ttl,
                      "How old a value may be and still be fresh, e.g. 30m (from its tick's "
                      "as_of). Default: values never expire");
  command
      ->add_option("--past-ttl", flags->past_ttl,
                   "A value past the TTL is served 'stale' (the value, marked stale) or "
                   "'absent' (null, marked stale)")
      ->check(CLI::IsMember({"stale", "absent"}))
      ->capture_default_str();
  command
      ->add_option("--poll", flags->poll_seconds,
                   "Ask the warehouse for its latest tick this often, in seconds (on BigQuery each "
                   "ask is a billed query)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  command
      ->add_option("--reread", flags->reread_seconds,
                   "Read the latest tick again this often even when it did not move, in seconds: "
                   "a streaming job or a backfill rewrites it in place")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  command->footer(
      "Each value is the training set's for that station at the latest tick (what `bikestream\n"
      "training-set` exports), with its as_of, its age and whether it is past the TTL. New ticks\n"
      "are served within a second of their commit (and of their read). Endpoints "
      "(docs/serving.md):\n"
      "  GET  /v1/features?station_id=A&station_id=B[&feature=NAME...]\n"
      "  POST /v1/features  {\"station_ids\": [...], \"features\": [...]}   up to 1,000 stations\n"
      "  GET  /healthz, GET /metrics\n"
      "Example:\n"
      "  bikestream serve --warehouse sqlite:oslo.db --ttl 30m\n"
      "  curl 'http://127.0.0.1:8090/v1/features?station_id=S001'");
  command->callback([flags, &exit_code] { exit_code = Serve(*flags); });
}

}  // namespace bikestream::cli
