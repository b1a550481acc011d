// `bikestream gbfs FEED`: a bike-share system's GBFS feed, live or recorded, as pickup and
// drop-off events on stdout or a Pub/Sub topic.
#include <fmt/format.h>

#include <filesystem>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/message_sink.h"
#include "cli/progress_line.h"
#include "cli/pubsub_flags.h"
#include "common/print.h"
#include "event/event.h"
#include "gbfs/feed.h"
#include "gbfs/poller.h"
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
};

constexpr std::chrono::seconds kFetchTimeout{30};

bool IsUrl(std::string_view feed) { return feed.starts_with("http://") || feed.starts_with("https://"); }

absl::Status CheckFlags(const GbfsFlags& flags) {
  if (flags.system.empty() || flags.system.find_first_not_of(
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
                                  std::string::npos) {
    return absl::InvalidArgumentError(
        "--system names the bike-share system in event ids, e.g. --system oslobysykkel: letters, digits, _ . -");
  }
  if (IsUrl(flags.feed)) {
    if (flags.speedup > 0) return absl::InvalidArgumentError("--speedup paces a recorded file; a live feed paces itself");
    return absl::OkStatus();
  }
  if (!std::filesystem::is_regular_file(flags.feed)) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: no such file; FEED is an http(s):// URL of gbfs.json or station_status.json, or a file of snapshots",
        flags.feed));
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

int RunGbfs(GbfsFlags& flags) {
  if (auto checked = CheckFlags(flags); !checked.ok()) return Fail(checked);
  auto sink = OpenMessageSink({.to = flags.to, .publish_concurrency = flags.publish_concurrency}, flags.pubsub,
                              flags.mqtt);
  if (!sink.ok()) return Fail(sink.status());

  const std::atomic<bool>& interrupted = InstallStopHandlers();
  absl::Status closed;  // stdout gone (`| head`): no retry can hand the events on.
  auto stop = [&] { return interrupted.load() || !closed.ok(); };
  auto hand_off = [&](const std::vector<Event>& events) {
    absl::Status handed;
    for (const Event& event : events) {
      handed = (*sink)->Send(ToJson(event));
      if (!handed.ok()) break;
    }
    if (handed.ok()) handed = (*sink)->Flush();
    if (!handed.ok() && flags.to == "stdout") closed = handed;
    return handed;
  };
  const bool live = IsUrl(flags.feed);
  ProgressLine progress;
  auto poller = gbfs::Poller::Open(flags.system, hand_off, SystemClock(),
                                   {.state_path = flags.state,
                                    // A replay reads its file again after a restart.
                                    .state_interval = live ? 0 : kMicrosPerSecond,
                                    .on_snapshot = ShowSnapshots(live, progress)});
  if (!poller.ok()) return Fail(poller.status());

  http::HttpClient http(kFetchTimeout, http::HttpClient::Proxy::kFromEnvironment, http::HttpClient::Use::kPublicFeed);
  std::unique_ptr<gbfs::SnapshotFeed> feed;
  if (live) {
    feed = std::make_unique<gbfs::LiveFeed>(
        gbfs::LiveFeedOptions{.url = flags.feed, .min_interval = static_cast<TimestampMicros>(flags.min_interval * kSecond)},
        http, SystemClock());
    Print(stderr, "polling {} as system {}, every {} s at most\n", flags.feed, flags.system, flags.min_interval);
  } else {
    feed = std::make_unique<gbfs::ReplayFeed>(flags.feed, flags.speedup, SystemClock());
  }
  if (poller->stations() > 0) Print(stderr, "resuming from {}: {} stations\n", flags.state, poller->stations());

  const absl::Status ran = poller->Run(*feed, stop);
  const absl::Status finished = (*sink)->Finish();
  progress.Done();
  const gbfs::PollerStats& s = poller->stats();
  Print(stderr, "{} snapshots, {} stations: {} events ({} pickups, {} drop-offs){}{}{}\n", s.snapshots,
        poller->stations(), s.events(), s.pickups, s.dropoffs,
        s.resent ? fmt::format(", {} handed on again from before the restart", s.resent) : "",
        s.bad_snapshots ? fmt::format(", {} snapshots unreadable", s.bad_snapshots) : "",
        s.station_problems ? fmt::format(", {} station reports left out", s.station_problems) : "");
  if (!ran.ok()) return Fail(ran);
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
      "  bikestream gbfs FEED --system oslobysykkel --to mqtt://127.0.0.1:1883/oslo/events");
  command->add_option("FEED", flags->feed,
                      "A live feed: the http(s) URL of gbfs.json (auto-discovery) or of station_status.json. "
                      "Or a file of recorded station_status snapshots, one JSON object a line (.gz too)")
      ->required();
  command->add_option("--system", flags->system, "The system's name in event ids, e.g. oslobysykkel")->required();
  command->add_option("--to", flags->to,
                      "Where events go: stdout (JSON lines), pubsub (--project, --topic), or an MQTT topic, "
                      "mqtt://HOST[:PORT]/TOPIC (QoS 1; mqtts:// for TLS)")
      ->check(MessageDestinations({"stdout", "pubsub"}))
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
  command->callback([flags, &exit_code] { exit_code = RunGbfs(*flags); });
}

}  // namespace bikestream::cli
