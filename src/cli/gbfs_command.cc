// `bikestream gbfs FEED`: a bike-share system's GBFS feed, live or recorded, as pickup and
// drop-off events on stdout, a Pub/Sub topic, an MQTT topic or committed into the warehouse;
// with --warehouse, where its stations are (station_information) in the stations table.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "cli/publisher_flags.h"
#include "cli/pubsub_flags.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/redact.h"
#include "common/status.h"
#include "ingest/staged_ingest.h"
#include "job/gbfs_job.h"
#include "job/signals.h"

namespace bikestream::cli {
namespace {

struct GbfsFlags {
  std::string feed;
  std::string system;
  std::string to = "stdout";
  std::string state;
  double min_interval = 5;
  double speedup = 0;
  PubsubFlags pubsub;
  int publish_concurrency = 4;
  MqttFlags mqtt;
  std::string station_information;  // A file or URL; "" for the one gbfs.json lists.
  WarehouseFlags warehouse;  // Where the stations table is, and the events with --to warehouse.
};

constexpr char kToWarehouse[] = "warehouse";

GbfsJobOptions JobOptions(const GbfsFlags& flags) {
  return {.feed = flags.feed,
          .system = flags.system,
          .state = flags.state,
          .min_interval = static_cast<TimestampMicros>(flags.min_interval * kSecond),
          .speedup = flags.speedup,
          .station_information = flags.station_information,
          .stop_when_publishing_fails = flags.to == "stdout",
          .log = [](const std::string& line) { Print(stderr, "{}\n", line); }};
}

// --to warehouse: the events committed in process, validated and deduplicated as `ingest` does
// them, on a thread beside the parsing: each commit takes what was handed on while the last one
// ran (no JSON, no second process between).
struct WarehouseEvents {
  std::unique_ptr<Warehouse> sink;
  std::unique_ptr<Warehouse> writer;
  std::unique_ptr<StagedIngest> ingest;
};

absl::StatusOr<WarehouseEvents> OpenWarehouseEvents(const GbfsFlags& flags) {
  WarehouseEvents events;
  auto sink = OpenSetUpWarehouse(flags.warehouse);
  if (!sink.ok()) return sink.status();
  auto writer = OpenWarehouseFromFlags(flags.warehouse);
  if (!writer.ok()) return writer.status();
  events.sink = std::move(*sink);
  events.writer = std::move(*writer);
  events.ingest = std::make_unique<StagedIngest>(
      *events.sink, *events.writer, IngestOptions{.source = "gbfs:" + RedactUrl(flags.feed)});
  return events;
}

// The stations table's warehouse, when one is asked for (--warehouse), or null.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenStationsTable(const GbfsFlags& flags) {
  const bool to_warehouse = flags.to == kToWarehouse;
  if (flags.warehouse.url.empty() && flags.station_information.empty()) return nullptr;
  if (flags.warehouse.url.empty() && !to_warehouse) {
    return absl::InvalidArgumentError(
        "--station-information fills the stations table: give its --warehouse URL");
  }
  if (flags.station_information.empty() && !IsLiveFeed(flags.feed)) {
    if (to_warehouse) return nullptr;  // The events alone: no file says where the stations are.
    return absl::InvalidArgumentError(
        "--warehouse keeps where the stations are: with a recorded FEED, give their "
        "station_information.json "
        "(--station-information FILE)");
  }
  return OpenSetUpWarehouse(flags.warehouse);
}

void PrintSummary(const GbfsFlags& flags, const GbfsJobResult& result,
                  const StagedIngest* warehouse) {
  const gbfs::PollerStats& s = result.stats;
  Print(stderr, "{} snapshots, {} stations: {} events ({} pickups, {} drop-offs){}{}{}\n",
        s.snapshots, result.stations, s.events(), s.pickups, s.dropoffs,
        s.resent ? fmt::format(", {} handed on again from before the restart", s.resent) : "",
        s.bad_snapshots ? fmt::format(", {} snapshots unreadable", s.bad_snapshots) : "",
        s.station_problems ? fmt::format(", {} station reports left out", s.station_problems) : "");
  if (warehouse) {
    Print(stderr, "{}: {}\n", WarehouseUrlForPeople(flags.warehouse),
          SummaryLine(warehouse->stats(), result.seconds));
  }
}

int RunGbfs(GbfsFlags& flags) {
  const std::atomic<bool>& interrupted = InstallStopHandlers();
  GbfsJobOptions options = JobOptions(flags);
  options.interrupted = [&] { return interrupted.load(); };
  if (options.system.empty()) {
    auto system = GbfsSystemOf(flags.feed, options.interrupted, options.log);
    if (!system.ok()) return Fail(system.status());
    options.system = *system;
  }
  if (auto checked = CheckGbfsJob(options); !checked.ok()) return Fail(checked);
  std::unique_ptr<MessagePublisher> publisher;
  WarehouseEvents warehouse;
  if (flags.to == kToWarehouse) {
    auto opened = OpenWarehouseEvents(flags);
    if (!opened.ok()) return Fail(opened.status());
    warehouse = std::move(*opened);
  } else {
    auto opened =
        OpenPublisherFromFlags({.to = flags.to, .publish_concurrency = flags.publish_concurrency},
                               flags.pubsub, flags.mqtt);
    if (!opened.ok()) return Fail(opened.status());
    publisher = std::move(*opened);
  }
  auto stations = OpenStationsTable(flags);
  if (!stations.ok()) return Fail(stations.status());
  options.publisher = publisher.get();
  options.warehouse = warehouse.ingest.get();
  options.stations = stations->get();

  ProgressLine progress;
  options.progress = [&](const std::string& line, std::uint64_t snapshots) {
    progress.Show(line, snapshots);
  };
  auto result = RunGbfsJob(options);
  if (!result.ok()) return Fail(result.status());
  if (publisher) {
    if (std::string summary = publisher->Summary(); !summary.empty())
      Print(stderr, "{}\n", summary);
  }
  progress.Done();
  PrintSummary(flags, *result, options.warehouse);
  if (!result->error.ok()) return Fail(result->error);
  if (result->pending > 0) {
    return Fail(
        fmt::format("stopped before {} events were committed (the warehouse failed until then); {}",
                    result->pending,
                    IsLiveFeed(flags.feed) && flags.state.empty()
                        ? "a live feed's past is gone: run with --state to resume exactly"
                        : "running it again derives them again, each stored once"));
  }
  if (!result->published.ok()) return StdoutReaderGone() ? kExitOk : Fail(result->published);
  return interrupted ? kExitCancelled : kExitOk;
}

}  // namespace

void AddGbfsCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<GbfsFlags>();
  CLI::App* command = app.add_subcommand(
      "gbfs", "Turn a bike-share system's GBFS feed into pickup and drop-off events");
  command->footer(
      "Per station, between two reports, a fall of bikes available is a pickup and a rise a "
      "drop-off\n"
      "(delta: the size of the change; a station's first report is its baseline). Event ids are\n"
      "SYSTEM:STATION:REPORT_TIME, the same on every run: re-reading, restarts and two pollers "
      "side by\n"
      "side never mint a second id for one change (ingest stores a repeat once).\n"
      "\n"
      "Examples:\n"
      "  bikestream gbfs https://gbfs.urbansharing.com/oslobysykkel.no/gbfs.json --system "
      "oslobysykkel \\\n"
      "      --state oslo.state >> events.jsonl           # live, until Ctrl-C; restarts resume\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel | bikestream ingest\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel --speedup 3600   # an hour a "
      "second\n"
      "  PUBSUB_EMULATOR_HOST=127.0.0.1:8085 bikestream gbfs FEED --system oslobysykkel --to "
      "pubsub \\\n"
      "      --project demo --topic bike-events\n"
      "  bikestream gbfs FEED --system oslobysykkel --to mqtt://127.0.0.1:1883/oslo/events\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel --to warehouse --warehouse "
      "sqlite:oslo.db\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel --station-information "
      "station_information.json \\\n"
      "      --warehouse sqlite:oslo.db | bikestream ingest --warehouse sqlite:oslo.db   # and the "
      "stations table\n"
      "\n"
      "With --warehouse, a live feed's station_information (as gbfs.json lists it, or "
      "--station-information)\n"
      "is read at the start and every 10 minutes, and upserted into the stations table "
      "(STATION_TABLE).");
  command
      ->add_option(
          "FEED", flags->feed,
          "A live feed: the http(s) URL of gbfs.json (auto-discovery) or of station_status.json. "
          "Or a file of recorded station_status snapshots, one JSON object a line (.gz too)")
      ->required();
  command->add_option(
      "--system", flags->system,
      "The system's name in event ids, e.g. oslobysykkel. Default for a live feed: the system_id "
      "its system_information names; required for a file");
  command
      ->add_option(
          "--to", flags->to,
          "Where events go: stdout (JSON lines), pubsub (--project, --topic), an MQTT topic, "
          "mqtt://HOST[:PORT]/TOPIC (QoS 1; mqtts:// for TLS), or warehouse: committed into "
          "--warehouse in process, validated and deduplicated as ingest does (the fastest replay)")
      ->check(MessageDestinations({"stdout", "pubsub", kToWarehouse}))
      ->capture_default_str();
  command->add_option(
      "--state", flags->state,
      "Keep each station's last report here, so that a restart resumes exactly (written "
      "atomically, with the changes being handed on)");
  command
      ->add_option("--min-interval", flags->min_interval,
                   "Live: poll at most this often, in seconds, whatever the feed's ttl says")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  command
      ->add_option("--speedup", flags->speedup,
                   "Replay: seconds of feed time per wall second, paced by last_updated. Default: "
                   "as fast as it goes")
      ->check(CLI::Range(kMinSpeedup, kMaxSpeedup));
  AddPubsubOptions(command, &flags->pubsub, true, false);
  command
      ->add_option("--publish-concurrency", flags->publish_concurrency,
                   "Publish requests in flight (--to pubsub)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  AddMqttOptions(command, &flags->mqtt, false);
  command
      ->add_option(
          "--station-information", flags->station_information,
          "Where the stations are, for the stations table: a station_information.json file (read "
          "once), or its URL beside a live feed (when gbfs.json does not list it). Default with "
          "--warehouse: the one gbfs.json lists")
      ->group("Warehouse");
  AddWarehouseOptions(command, &flags->warehouse);
  AddCommitDelayOption(command, &flags->warehouse);
  command->callback([flags, &exit_code] { exit_code = RunGbfs(*flags); });
}

}  // namespace bikestream::cli
