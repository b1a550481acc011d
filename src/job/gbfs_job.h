// The `gbfs` job: a bike-share system's GBFS feed, live or recorded, turned into pickup and
// drop-off events (gbfs/poller.h) and handed on — published (stdout, a broker), or committed
// into the warehouse in process — with the stations table kept from station_information.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "gbfs/poller.h"
#include "ingest/staged_ingest.h"
#include "source/message_publisher.h"
#include "warehouse/station_directory.h"

namespace bikestream {

struct GbfsJobOptions {
  // A live feed: the http(s) URL of gbfs.json or station_status.json. Or a file of recorded
  // station_status snapshots, one a line (.gz too).
  std::string feed;
  std::string system;  // The system's name in event ids (GbfsSystemOf).
  std::string state;   // Each station's last report, kept so a restart resumes exactly; "": none.
  DurationMicros min_interval = 5 * kMicrosPerSecond;  // Live: poll at most this often.
  double speedup = 0;  // Replay: feed seconds per wall second; 0: as fast as it goes.
  // Where the stations are: a station_information file (stored once, at the start) or, beside a
  // live feed, its URL (read with the feed); "": the one gbfs.json lists.
  std::string station_information;

  // Where the events go: exactly one of these two.
  MessagePublisher* publisher = nullptr;  // Each event a JSON message.
  StagedIngest* warehouse = nullptr;      // Validated, deduplicated and committed as ingest does.
  // A publisher whose failure no retry cures (stdout, once its reader is gone): the job stops.
  bool stop_when_publishing_fails = false;
  StationDirectory* stations = nullptr;  // The stations table to keep; null: none.

  std::function<bool()> interrupted;            // True stops the job (a signal). Required.
  std::function<void(const std::string&)> log;  // Lines for a person: each live snapshot, stations.
  // A replay's progress: a line, and the snapshots so far.
  std::function<void(const std::string& line, std::uint64_t snapshots)> progress;
  Clock* clock = nullptr;  // Default: the system clock.
};

struct GbfsJobResult {
  gbfs::PollerStats stats;
  std::size_t stations = 0;  // Stations known at the end.
  absl::Status error;        // Why the job stopped before its end (the feed, the state file).
  absl::Status
      published;  // The publisher's last word: its final flush, or the failure that stopped it.
  std::size_t pending = 0;  // Into the warehouse: events staged and never committed.
  double seconds = 0;
};

// Whether `feed` is a live feed's URL (else a file of snapshots).
bool IsLiveFeed(std::string_view feed);

// The options' feed, system and station_information fit together: kInvalidArgument naming the
// flag to fix (e.g. --speedup with a live feed, a station_information URL beside a file).
absl::Status CheckGbfsJob(const GbfsJobOptions& options);

// The system_id a live feed's system_information names; `log` says it was chosen so.
// kInvalidArgument for a file (it does not say), or a name that cannot be part of an event id.
absl::StatusOr<std::string> GbfsSystemOf(const std::string& feed,
                                         const std::function<bool()>& interrupted,
                                         const std::function<void(const std::string&)>& log);

// Runs until a replay's end or `interrupted`. An error only when it cannot start (the
// station_information file, stored first; the state file); what stopped it is in the result.
absl::StatusOr<GbfsJobResult> RunGbfsJob(const GbfsJobOptions& options);

}  // namespace bikestream
