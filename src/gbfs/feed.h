// Where station_status snapshots come from: a live feed polled over HTTP, or a file of recorded
// snapshots replayed. Each calls back with every snapshot as it becomes due, or with the error
// that kept one from being read; a bad snapshot never ends a feed.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/retry.h"
#include "gbfs/discovery.h"
#include "gbfs/station_information.h"
#include "gbfs/station_status.h"
#include "http/http_client.h"

namespace bikestream::gbfs {

class SnapshotFeed {
 public:
  // Returns false to end the feed.
  using Visit = std::function<bool(absl::StatusOr<StationStatus> snapshot)>;
  using Stop = std::function<bool()>;

  virtual ~SnapshotFeed() = default;

  // Calls `visit` with each snapshot, or the error instead of one, until `visit` returns false,
  // `stop()` turns true, or the feed has no more. Returns OK then, or the error that ended the
  // feed (a recorded file that cannot be read to its end).
  virtual absl::Status ForEachSnapshot(const Visit& visit, const Stop& stop) = 0;
};

struct LiveFeedOptions {
  std::string url;  // A gbfs.json auto-discovery document, or station_status.json itself.
  // Never polls more often than this, whatever the feed's ttl says. Default: 5 s.
  DurationMicros min_interval = 5 * kMicrosPerSecond;
  // After a failed poll the backoff doubles, from min_interval up to this, and each wait is
  // drawn at random below it (never under min_interval). Default: 5 min.
  DurationMicros max_backoff = 5 * 60 * kMicrosPerSecond;
  // Called with each reading of station_information, or the error that kept it from being
  // read (kNotFound when there is none to read); optional: without it, station_information is
  // not read.
  std::function<void(absl::StatusOr<StationInformation>)> on_stations;
  // station_information's URL, when gbfs.json does not list it or FEED is station_status.json
  // itself. Default: the one gbfs.json lists.
  std::string station_information_url;
  // station_information is read at the first poll, then again this often: stations move over
  // days, not seconds. After a failed read, again in a minute. Default: 10 min.
  DurationMicros station_information_interval = 10 * 60 * kMicrosPerSecond;
};

// Polls a feed when its data is due again (last_updated + ttl; every ttl when the feed's clock is
// off), and no more often than min_interval; a snapshot whose last_updated did not change is
// skipped. A failed poll (down,
// an HTTP error, not GBFS) is reported and retried with backoff, for as long as it takes. Finds
// the station_status feed through gbfs.json, again whenever it stops answering. Reads
// station_information beside it when asked to (on_stations).
class LiveFeed final : public SnapshotFeed {
 public:
  // `http` and `clock` must outlive the feed.
  LiveFeed(LiveFeedOptions options, http::HttpClient& http, Clock& clock);

  absl::Status ForEachSnapshot(const Visit& visit, const Stop& stop) override;

  // The feeds found, once a first poll has succeeded.
  const FeedUrls& urls() const { return urls_; }

 private:
  absl::StatusOr<StationStatus> Poll();
  absl::StatusOr<std::string> Get(const std::string& url);
  // Reads station_information for on_stations when it is due.
  void MaybeReadStations(TimestampMicros now);

  LiveFeedOptions options_;
  http::HttpClient& http_;
  Clock& clock_;
  FeedUrls urls_;
  std::optional<TimestampMicros> stations_due_;
};

// The system_id a live feed's system_information names (through gbfs.json): the system's
// name in event ids when none is given. kNotFound, saying to give one, when `url` is
// station_status.json itself or its gbfs.json lists no system_information.
absl::StatusOr<std::string> FetchSystemId(http::HttpClient& http, const std::string& url);

// Replays a file of recorded snapshots (snapshot_file.h): as fast as it can (speedup 0), or
// paced by their last_updated, `speedup` seconds of feed time per wall second.
class ReplayFeed final : public SnapshotFeed {
 public:
  ReplayFeed(std::string path, double speedup, Clock& clock);

  absl::Status ForEachSnapshot(const Visit& visit, const Stop& stop) override;

 private:
  std::string path_;
  double speedup_;
  Clock& clock_;
};

}  // namespace bikestream::gbfs
