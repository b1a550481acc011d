#include "job/gbfs_job.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "common/file.h"
#include "common/limits.h"
#include "common/redact.h"
#include "common/status.h"
#include "event/event.h"
#include "event/timestamp.h"
#include "gbfs/feed.h"
#include "http/http_client.h"

namespace bikestream {
namespace {

constexpr std::chrono::seconds kFetchTimeout{30};

// What every request to a feed takes: open data, bounded, abandoned once `cancelled`.
http::HttpClient::Options FeedClient(std::function<bool()> cancelled) {
  return {.timeout = kFetchTimeout,
          .max_reply_bytes = limits::kFeedDocument,
          .use = http::HttpClient::Use::kPublicFeed,
          .cancelled = std::move(cancelled)};
}

void Log(const GbfsJobOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

// --station-information names a file, which is read once, at the start (a URL is polled).
bool StationsFromFile(const GbfsJobOptions& options) {
  return !options.station_information.empty() && !IsLiveFeed(options.station_information);
}

// The stations table: each reading of station_information upserted, its problems reported.
class StationsKeeper {
 public:
  StationsKeeper(StationDirectory& stations, const GbfsJobOptions& options)
      : stations_(stations), options_(options) {}

  // An error only when the stations could not be stored.
  absl::Status Keep(absl::StatusOr<gbfs::StationInformation> information) {
    if (!information.ok()) {
      Log(options_, fmt::format("station_information: {}", MessageOf(information.status())));
      return absl::OkStatus();
    }
    for (const std::string& problem : information->problems)
      Log(options_, "station_information: " + problem);
    if (absl::Status stored = stations_.UpsertStations(information->stations); !stored.ok()) {
      return Prefixed("storing the stations failed", stored);
    }
    if (information->stations.size() != stored_) {
      Log(options_,
          fmt::format("stations table: {} stations described at {}", information->stations.size(),
                      FormatRfc3339(information->last_updated)));
    }
    stored_ = information->stations.size();
    return absl::OkStatus();
  }

  // For a live feed: a failure is reported, and the next reading tried (the table is as fresh
  // as the last reading stored).
  void KeepOrReport(absl::StatusOr<gbfs::StationInformation> information) {
    if (absl::Status kept = Keep(std::move(information)); !kept.ok()) {
      Log(options_, fmt::format("{} (tried again at the next reading)", MessageOf(kept)));
    }
  }

 private:
  StationDirectory& stations_;
  const GbfsJobOptions& options_;
  std::size_t stored_ = 0;
};

absl::Status StoreStationsFile(const GbfsJobOptions& options, StationsKeeper& keeper) {
  auto document = ReadWholeFile(options.station_information, limits::kStationInformationFile);
  if (!document.ok()) return Prefixed("--station-information", document.status());
  auto information = gbfs::ParseStationInformation(*document);
  if (!information.ok()) return Prefixed(options.station_information, information.status());
  return keeper.Keep(std::move(information));
}

// One line a snapshot for a live feed (minutes apart); progress for a replay.
decltype(gbfs::PollerOptions::on_snapshot) ShowSnapshots(const GbfsJobOptions& options) {
  if (IsLiveFeed(options.feed)) {
    return [&options](const gbfs::StationStatus& snapshot, std::size_t events,
                      const gbfs::PollerStats&) {
      Log(options, fmt::format("{}: {} stations, {} changes", FormatRfc3339(snapshot.last_updated),
                               snapshot.stations.size(), events));
    };
  }
  return [&options](const gbfs::StationStatus& snapshot, std::size_t,
                    const gbfs::PollerStats& totals) {
    if (!options.progress) return;
    options.progress(fmt::format("{} snapshots, {} events, at {}", totals.snapshots,
                                 totals.events(), FormatRfc3339(snapshot.last_updated)),
                     totals.snapshots);
  };
}

}  // namespace

bool IsLiveFeed(std::string_view feed) {
  return feed.starts_with("http://") || feed.starts_with("https://");
}

absl::Status CheckGbfsJob(const GbfsJobOptions& options) {
  if (!IsStationId(
          options.system)) {  // The characters of a station id, as the two share event ids.
    return absl::InvalidArgumentError(
        "--system names the bike-share system in event ids, e.g. --system oslobysykkel: letters, "
        "digits, _ . -");
  }
  if (IsLiveFeed(options.feed)) {
    if (options.speedup > 0) {
      return absl::InvalidArgumentError(
          "--speedup paces a recorded file; a live feed paces itself");
    }
    return absl::OkStatus();
  }
  if (IsLiveFeed(options.station_information)) {
    return absl::InvalidArgumentError(
        "--station-information: a URL is read beside a live feed; with a recorded FEED give a file "
        "(e.g. saved "
        "with curl -o station_information.json URL)");
  }
  if (!std::filesystem::is_regular_file(options.feed)) {
    return absl::InvalidArgumentError(
        fmt::format("{}: no such file; FEED is an http(s):// URL of gbfs.json or "
                    "station_status.json, or a file of snapshots",
                    RedactUrl(options.feed)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GbfsSystemOf(const std::string& feed,
                                         const std::function<bool()>& interrupted,
                                         const std::function<void(const std::string&)>& log) {
  if (!IsLiveFeed(feed)) {
    return absl::InvalidArgumentError(
        "give --system NAME: a recorded file does not say which system it holds, and the name is "
        "part of every "
        "event id (e.g. --system oslobysykkel)");
  }
  http::HttpClient http(FeedClient(interrupted));
  auto system = gbfs::FetchSystemId(http, feed);
  if (!system.ok())
    return Prefixed("without --system, the feed's own name was asked for", system.status());
  if (!IsStationId(*system)) {
    return absl::InvalidArgumentError(fmt::format(
        "the feed names its system {}, which cannot be part of an event id: give --system NAME",
        RemoteText(*system, 100)));
  }
  if (log)
    log(fmt::format("system {} (the feed's system_id; --system names it otherwise)", *system));
  return system;
}

absl::StatusOr<GbfsJobResult> RunGbfsJob(const GbfsJobOptions& options) {
  if ((options.publisher == nullptr) == (options.warehouse == nullptr) || !options.interrupted) {
    return absl::InvalidArgumentError(
        "a gbfs job hands its events to a publisher or a warehouse, one of them");
  }
  Clock& clock = options.clock ? *options.clock : SystemClock();
  const bool live = IsLiveFeed(options.feed);
  std::unique_ptr<StationsKeeper> stations;
  if (options.stations) {
    stations = std::make_unique<StationsKeeper>(*options.stations, options);
    if (StationsFromFile(options)) {
      if (absl::Status stored = StoreStationsFile(options, *stations); !stored.ok()) return stored;
    }
  }

  absl::Status published;  // A publisher's failure that stops the job (stdout gone: `| head`).
  auto stop = [&] { return options.interrupted() || !published.ok(); };
  gbfs::HandOff hand_off = [&](const std::vector<Event>& events) {
    absl::Status handed;
    for (const Event& event : events) {
      handed = options.publisher->Send(ToJson(event));
      if (!handed.ok()) break;
    }
    if (handed.ok()) handed = options.publisher->Flush();
    if (!handed.ok() && options.stop_when_publishing_fails) published = handed;
    return handed;
  };
  std::function<absl::Status()> flush;  // Makes what was handed on durable.
  StagedIngest* warehouse = options.warehouse;
  if (warehouse) {
    hand_off = [warehouse](const std::vector<Event>& events) { return warehouse->Stage(events); };
    flush = [warehouse] { return warehouse->Flush(); };
  }
  auto poller = gbfs::Poller::Open(options.system, hand_off, clock,
                                   {.state_path = options.state,
                                    // A replay reads its file again after a restart.
                                    .state_interval = live ? 0 : kMicrosPerSecond,
                                    .flush = flush,
                                    .on_snapshot = ShowSnapshots(options)});
  if (!poller.ok()) return poller.status();

  http::HttpClient http(FeedClient(stop));
  std::unique_ptr<gbfs::SnapshotFeed> feed;
  if (live) {
    gbfs::LiveFeedOptions feed_options{.url = options.feed, .min_interval = options.min_interval};
    // A file was stored at the start; otherwise the URL given, or the one gbfs.json lists.
    if (stations && !StationsFromFile(options)) {
      feed_options.on_stations = [keeper = stations.get()](auto information) {
        keeper->KeepOrReport(std::move(information));
      };
      feed_options.station_information_url = options.station_information;
    }
    feed = std::make_unique<gbfs::LiveFeed>(std::move(feed_options), http, clock);
    Log(options,
        fmt::format("polling {} as system {}, every {:g} s at most", RedactUrl(options.feed),
                    options.system, double(options.min_interval) / kMicrosPerSecond));
  } else {
    feed = std::make_unique<gbfs::ReplayFeed>(options.feed, options.speedup, clock);
  }
  if (poller->stations() > 0)
    Log(options, fmt::format("resuming from {}: {} stations", options.state, poller->stations()));

  const TimestampMicros start = clock.Now();
  GbfsJobResult result;
  result.error = poller->Run(*feed, stop);
  if (options.publisher) {
    absl::Status flushed = options.publisher->Flush();
    result.published = published.ok() ? flushed : published;
  }
  result.stats = poller->stats();
  result.stations = poller->stations();
  result.pending = warehouse ? warehouse->pending() : 0;
  result.seconds = double(clock.Now() - start) / kMicrosPerSecond;
  return result;
}

}  // namespace bikestream
