// `bikestream gbfs FEED`: a bike-share system's GBFS feed, live or recorded, as pickup and
// drop-off events on stdout, a Pub/Sub topic, an MQTT topic or committed into the warehouse;
// with --warehouse, where its stations are (station_information) in the stations table.
#include <fmt/format.h>

#include <filesystem>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/publisher_flags.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "cli/pubsub_flags.h"
#include "cli/warehouse_flags.h"
#include "common/file.h"
#include "common/limits.h"
#include "common/print.h"
#include "common/redact.h"
#include "common/status.h"
#include "event/event.h"
#include "gbfs/feed.h"
#include "gbfs/poller.h"
#include "ingest/staged_ingest.h"
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

constexpr std::chrono::seconds kFetchTimeout{30};
constexpr char kToWarehouse[] = "warehouse";

// What every request to a feed takes: open data, bounded, abandoned once `cancelled`.
http::HttpClient::Options FeedClient(std::function<bool()> cancelled) {
  return {.timeout = kFetchTimeout,
          .max_reply_bytes = limits::kFeedDocument,
          .use = http::HttpClient::Use::kPublicFeed,
          .cancelled = std::move(cancelled)};
}

bool IsUrl(std::string_view feed) { return feed.starts_with("http://") || feed.starts_with("https://"); }

// --station-information names a file, which is read once, at the start (a URL is polled).
bool StationsFromFile(const GbfsFlags& flags) {
  return !flags.station_information.empty() && !IsUrl(flags.station_information);
}

absl::Status CheckFlags(const GbfsFlags& flags) {
  if (!IsStationId(flags.system)) {  // The characters of a station id, as the two share event ids.
    return absl::InvalidArgumentError(
        "--system names the bike-share system in event ids, e.g. --system oslobysykkel: letters, digits, _ . -");
  }
  if (IsUrl(flags.feed)) {
    if (flags.speedup > 0) return absl::InvalidArgumentError("--speedup paces a recorded file; a live feed paces itself");
    return absl::OkStatus();
  }
  if (IsUrl(flags.station_information) && !IsUrl(flags.feed)) {
    return absl::InvalidArgumentError(
        "--station-information: a URL is read beside a live feed; with a recorded FEED give a file (e.g. saved "
        "with curl -o station_information.json URL)");
  }
  if (!std::filesystem::is_regular_file(flags.feed)) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: no such file; FEED is an http(s):// URL of gbfs.json or station_status.json, or a file of snapshots",
        RedactUrl(flags.feed)));
  }
  return absl::OkStatus();
}

// One line a snapshot for a live feed (minutes apart); a progress line for a replay.
decltype(gbfs::PollerOptions::on_snapshot) ShowSnapshots(bool live, ProgressLine& progress) {
  if (live) {
    return [](const gbfs::StationStatus& snapshot, std::size_t events, const gbfs::PollerStats&) {
      Print(stderr, "{}: {} stations, {} changes\n", FormatRfc3339(snapshot.last_updated), snapshot.stations.size(),
            events);
    };
  }
  return [&progress](const gbfs::StationStatus& snapshot, std::size_t, const gbfs::PollerStats& totals) {
    progress.Show(fmt::format("{} snapshots, {} events, at {}", totals.snapshots, totals.events(),
                              FormatRfc3339(snapshot.last_updated)),
                  totals.snapshots);
  };
}

// The stations table: each reading of station_information upserted, its problems reported.
class StationsKeeper {
 public:
  explicit StationsKeeper(std::unique_ptr<Warehouse> warehouse) : warehouse_(std::move(warehouse)) {}

  // An error only when the stations could not be stored.
  absl::Status Keep(absl::StatusOr<gbfs::StationInformation> information) {
    if (!information.ok()) {
      Print(stderr, "station_information: {}\n", MessageOf(information.status()));
      return absl::OkStatus();
    }
    for (const std::string& problem : information->problems) Print(stderr, "station_information: {}\n", problem);
    if (absl::Status stored = warehouse_->UpsertStations(information->stations); !stored.ok()) {
      return Prefixed("storing the stations failed", stored);
    }
    if (information->stations.size() != stored_) {
      Print(stderr, "stations table: {} stations described at {}\n", information->stations.size(),
            FormatRfc3339(information->last_updated));
    }
    stored_ = information->stations.size();
    return absl::OkStatus();
  }

  // For a live feed: a failure is reported, and the next reading tried (the table is as fresh
  // as the last reading stored).
  void KeepOrReport(absl::StatusOr<gbfs::StationInformation> information) {
    if (absl::Status kept = Keep(std::move(information)); !kept.ok()) {
      Print(stderr, "{} (tried again at the next reading)\n", MessageOf(kept));
    }
  }

 private:
  std::unique_ptr<Warehouse> warehouse_;
  std::size_t stored_ = 0;
};

// --to warehouse: the events committed in process, validated and deduplicated as `ingest` does
// them, on a thread beside the parsing: each commit takes what was handed on while the last one
// ran (no JSON, no second process between).
class WarehouseEvents {
 public:
  static absl::StatusOr<std::unique_ptr<WarehouseEvents>> Open(const GbfsFlags& flags) {
    auto sink = OpenWarehouseFromFlags(flags.warehouse);
    if (!sink.ok()) return sink.status();
    if (absl::Status setup = (*sink)->Setup(); !setup.ok()) return setup;
    auto writer = OpenWarehouseFromFlags(flags.warehouse);
    if (!writer.ok()) return writer.status();
    return std::make_unique<WarehouseEvents>(std::move(*sink), std::move(*writer), "gbfs:" + RedactUrl(flags.feed));
  }

  WarehouseEvents(std::unique_ptr<Warehouse> sink, std::unique_ptr<Warehouse> writer, std::string source)
      : sink_(std::move(sink)),
        writer_(std::move(writer)),
        ingest_(*sink_, *writer_, {.source = std::move(source)}) {}

  gbfs::HandOff hand_off() {
    return [this](const std::vector<Event>& events) { return ingest_.Stage(events); };
  }
  std::function<absl::Status()> flush() {
    return [this] { return ingest_.Flush(); };
  }
  std::size_t pending() const { return ingest_.pending(); }
  const IngestStats& stats() const { return ingest_.stats(); }

 private:
  std::unique_ptr<Warehouse> sink_;
  std::unique_ptr<Warehouse> writer_;
  StagedIngest ingest_;
};

// The stations table's keeper, when asked for one (--warehouse); a file of
// station_information is stored at once.
absl::StatusOr<std::unique_ptr<StationsKeeper>> OpenStationsKeeper(const GbfsFlags& flags) {
  const bool to_warehouse = flags.to == kToWarehouse;
  if (flags.warehouse.url.empty() && flags.station_information.empty()) return nullptr;
  if (flags.warehouse.url.empty() && !to_warehouse) {
    return absl::InvalidArgumentError("--station-information fills the stations table: give its --warehouse URL");
  }
  if (flags.station_information.empty() && !IsUrl(flags.feed)) {
    if (to_warehouse) return nullptr;  // The events alone: no file says where the stations are.
    return absl::InvalidArgumentError(
        "--warehouse keeps where the stations are: with a recorded FEED, give their station_information.json "
        "(--station-information FILE)");
  }
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse);
  if (!warehouse.ok()) return warehouse.status();
  if (absl::Status setup = (*warehouse)->Setup(); !setup.ok()) return setup;
  auto keeper = std::make_unique<StationsKeeper>(std::move(*warehouse));
  if (StationsFromFile(flags)) {
    auto document = ReadWholeFile(flags.station_information, limits::kStationInformationFile);
    if (!document.ok()) return Prefixed("--station-information", document.status());
    auto information = gbfs::ParseStationInformation(*document);
    if (!information.ok()) return Prefixed(flags.station_information, information.status());
    if (absl::Status kept = keeper->Keep(std::move(information)); !kept.ok()) return kept;
  }
  return keeper;
}

// Where the events go: a message sink, or the warehouse (committed in process).
struct Destination {
  std::unique_ptr<MessagePublisher> sink;
  std::unique_ptr<WarehouseEvents> warehouse;
};

absl::StatusOr<Destination> OpenDestination(GbfsFlags& flags) {
  if (flags.to == kToWarehouse) {
    auto warehouse = WarehouseEvents::Open(flags);
    if (!warehouse.ok()) return warehouse.status();
    return Destination{.sink = nullptr, .warehouse = std::move(*warehouse)};
  }
  auto sink = OpenPublisherFromFlags({.to = flags.to, .publish_concurrency = flags.publish_concurrency},
                                     flags.pubsub, flags.mqtt);
  if (!sink.ok()) return sink.status();
  return Destination{.sink = std::move(*sink), .warehouse = nullptr};
}

// --system, or the system_id a live feed's system_information names.
absl::StatusOr<std::string> SystemOf(const GbfsFlags& flags, const std::atomic<bool>& interrupted) {
  if (!flags.system.empty()) return flags.system;
  if (!IsUrl(flags.feed)) {
    return absl::InvalidArgumentError(
        "give --system NAME: a recorded file does not say which system it holds, and the name is part of every "
        "event id (e.g. --system oslobysykkel)");
  }
  http::HttpClient http(FeedClient([&] { return interrupted.load(); }));
  auto system = gbfs::FetchSystemId(http, flags.feed);
  if (!system.ok()) return Prefixed("without --system, the feed's own name was asked for", system.status());
  if (!IsStationId(*system)) {
    return absl::InvalidArgumentError(fmt::format(
        "the feed names its system {}, which cannot be part of an event id: give --system NAME", RemoteText(*system, 100)));
  }
  Print(stderr, "system {} (the feed's system_id; --system names it otherwise)\n", *system);
  return system;
}

int RunGbfs(GbfsFlags& flags) {
  const std::atomic<bool>& interrupted = InstallStopHandlers();
  auto system = SystemOf(flags, interrupted);
  if (!system.ok()) return Fail(system.status());
  flags.system = *system;
  if (auto checked = CheckFlags(flags); !checked.ok()) return Fail(checked);
  auto destination = OpenDestination(flags);
  if (!destination.ok()) return Fail(destination.status());
  auto stations = OpenStationsKeeper(flags);
  if (!stations.ok()) return Fail(stations.status());

  absl::Status closed;  // stdout gone (`| head`): no retry can hand the events on.
  auto stop = [&] { return interrupted.load() || !closed.ok(); };
  MessagePublisher* sink = destination->sink.get();
  WarehouseEvents* warehouse = destination->warehouse.get();
  gbfs::HandOff hand_off = [&](const std::vector<Event>& events) {
    absl::Status handed;
    for (const Event& event : events) {
      handed = sink->Send(ToJson(event));
      if (!handed.ok()) break;
    }
    if (handed.ok()) handed = sink->Flush();
    if (!handed.ok() && flags.to == "stdout") closed = handed;
    return handed;
  };
  if (warehouse) hand_off = warehouse->hand_off();
  const bool live = IsUrl(flags.feed);
  ProgressLine progress;
  auto poller = gbfs::Poller::Open(flags.system, hand_off, SystemClock(),
                                   {.state_path = flags.state,
                                    // A replay reads its file again after a restart.
                                    .state_interval = live ? 0 : kMicrosPerSecond,
                                    .flush = warehouse ? warehouse->flush() : nullptr,
                                    .on_snapshot = ShowSnapshots(live, progress)});
  if (!poller.ok()) return Fail(poller.status());

  http::HttpClient http(FeedClient(stop));
  std::unique_ptr<gbfs::SnapshotFeed> feed;
  if (live) {
    gbfs::LiveFeedOptions options{.url = flags.feed,
                                  .min_interval = static_cast<TimestampMicros>(flags.min_interval * kSecond)};
    // A file was stored at the start; otherwise the URL given, or the one gbfs.json lists.
    if (*stations && !StationsFromFile(flags)) {
      options.on_stations = [keeper = stations->get()](auto information) { keeper->KeepOrReport(std::move(information)); };
      options.station_information_url = flags.station_information;
    }
    feed = std::make_unique<gbfs::LiveFeed>(std::move(options), http, SystemClock());
    Print(stderr, "polling {} as system {}, every {} s at most\n", RedactUrl(flags.feed), flags.system, flags.min_interval);
  } else {
    feed = std::make_unique<gbfs::ReplayFeed>(flags.feed, flags.speedup, SystemClock());
  }
  if (poller->stations() > 0) Print(stderr, "resuming from {}: {} stations\n", flags.state, poller->stations());

  const TimestampMicros start = SystemClock().Now();
  const absl::Status ran = poller->Run(*feed, stop);
  const absl::Status finished = sink ? FinishPublishing(*sink) : absl::OkStatus();
  progress.Done();
  const gbfs::PollerStats& s = poller->stats();
  Print(stderr, "{} snapshots, {} stations: {} events ({} pickups, {} drop-offs){}{}{}\n", s.snapshots,
        poller->stations(), s.events(), s.pickups, s.dropoffs,
        s.resent ? fmt::format(", {} handed on again from before the restart", s.resent) : "",
        s.bad_snapshots ? fmt::format(", {} snapshots unreadable", s.bad_snapshots) : "",
        s.station_problems ? fmt::format(", {} station reports left out", s.station_problems) : "");
  if (warehouse) {
    const double seconds = double(SystemClock().Now() - start) / kMicrosPerSecond;
    Print(stderr, "{}: {}\n", WarehouseUrlForPeople(flags.warehouse), SummaryLine(warehouse->stats(), seconds));
  }
  if (!ran.ok()) return Fail(ran);
  if (warehouse && warehouse->pending() > 0) {
    return Fail(fmt::format("stopped before {} events were committed (the warehouse failed until then); {}",
                            warehouse->pending(),
                            live && flags.state.empty()
                                ? "a live feed's past is gone: run with --state to resume exactly"
                                : "running it again derives them again, each stored once"));
  }
  if ((!closed.ok() || !finished.ok()) && StdoutReaderGone()) return kExitOk;
  if (!closed.ok()) return Fail(closed);
  if (!finished.ok()) return Fail(finished);
  return interrupted ? kExitCancelled : kExitOk;
}

}  // namespace

void AddGbfsCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<GbfsFlags>();
  CLI::App* command = app.add_subcommand("gbfs", "Turn a bike-share system's GBFS feed into pickup and drop-off events");
  command->footer(
      "Per station, between two reports, a fall of bikes available is a pickup and a rise a drop-off\n"
      "(delta: the size of the change; a station's first report is its baseline). Event ids are\n"
      "SYSTEM:STATION:REPORT_TIME, the same on every run: re-reading, restarts and two pollers side by\n"
      "side never mint a second id for one change (ingest stores a repeat once).\n"
      "\n"
      "Examples:\n"
      "  bikestream gbfs https://gbfs.urbansharing.com/oslobysykkel.no/gbfs.json --system oslobysykkel \\\n"
      "      --state oslo.state >> events.jsonl           # live, until Ctrl-C; restarts resume\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel | bikestream ingest\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel --speedup 3600   # an hour a second\n"
      "  PUBSUB_EMULATOR_HOST=127.0.0.1:8085 bikestream gbfs FEED --system oslobysykkel --to pubsub \\\n"
      "      --project demo --topic bike-events\n"
      "  bikestream gbfs FEED --system oslobysykkel --to mqtt://127.0.0.1:1883/oslo/events\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel --to warehouse --warehouse sqlite:oslo.db\n"
      "  bikestream gbfs oslo-week.jsonl.gz --system oslobysykkel --station-information station_information.json \\\n"
      "      --warehouse sqlite:oslo.db | bikestream ingest --warehouse sqlite:oslo.db   # and the stations table\n"
      "\n"
      "With --warehouse, a live feed's station_information (as gbfs.json lists it, or --station-information)\n"
      "is read at the start and every 10 minutes, and upserted into the stations table (STATION_TABLE).");
  command->add_option("FEED", flags->feed,
                      "A live feed: the http(s) URL of gbfs.json (auto-discovery) or of station_status.json. "
                      "Or a file of recorded station_status snapshots, one JSON object a line (.gz too)")
      ->required();
  command->add_option("--system", flags->system,
                      "The system's name in event ids, e.g. oslobysykkel. Default for a live feed: the system_id "
                      "its system_information names; required for a file");
  command->add_option("--to", flags->to,
                      "Where events go: stdout (JSON lines), pubsub (--project, --topic), an MQTT topic, "
                      "mqtt://HOST[:PORT]/TOPIC (QoS 1; mqtts:// for TLS), or warehouse: committed into "
                      "--warehouse in process, validated and deduplicated as ingest does (the fastest replay)")
      ->check(MessageDestinations({"stdout", "pubsub", kToWarehouse}))
      ->capture_default_str();
  command->add_option("--state", flags->state,
                      "Keep each station's last report here, so that a restart resumes exactly (written "
                      "atomically, with the changes being handed on)");
  command->add_option("--min-interval", flags->min_interval,
                      "Live: poll at most this often, in seconds, whatever the feed's ttl says")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  command->add_option("--speedup", flags->speedup,
                      "Replay: seconds of feed time per wall second, paced by last_updated. Default: as fast as it goes")
      ->check(CLI::Range(kMinSpeedup, kMaxSpeedup));
  AddPubsubOptions(command, &flags->pubsub, true, false);
  command->add_option("--publish-concurrency", flags->publish_concurrency, "Publish requests in flight (--to pubsub)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  AddMqttOptions(command, &flags->mqtt, false);
  command->add_option("--station-information", flags->station_information,
                      "Where the stations are, for the stations table: a station_information.json file (read "
                      "once), or its URL beside a live feed (when gbfs.json does not list it). Default with "
                      "--warehouse: the one gbfs.json lists")
      ->group("Warehouse");
  AddWarehouseOptions(command, &flags->warehouse);
  command->callback([flags, &exit_code] { exit_code = RunGbfs(*flags); });
}

}  // namespace bikestream::cli
