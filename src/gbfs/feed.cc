#include "gbfs/feed.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "common/limits.h"
#include "common/redact.h"
#include "common/status.h"
#include "gbfs/snapshot_file.h"

namespace bikestream::gbfs {
namespace {

// A ttl past an hour is read as an hour: such a feed is still polled hourly.
constexpr std::int64_t kLongestTtlSeconds = 60 * 60;
constexpr DurationMicros kStationsRetryInterval = 60 * kMicrosPerSecond;

absl::StatusOr<std::string> Fetch(http::HttpClient& http, const std::string& url) {
  auto response = http.Send("GET", url, "", {"Accept: application/json"});
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::UnavailableError(fmt::format("GET {}: HTTP {}", RedactUrl(url), response->status));
  }
  return std::move(response->body);
}

}  // namespace

absl::StatusOr<std::string> FetchSystemId(http::HttpClient& http, const std::string& url) {
  auto body = Fetch(http, url);
  if (!body.ok()) return body.status();
  auto discovered = ParseDiscovery(*body);
  if (!discovered.ok()) return Prefixed(RedactUrl(url), discovered.status());
  if (!discovered->has_value() || (*discovered)->system_information.empty()) {
    return absl::NotFoundError(
        fmt::format("{} names no system_information, which would name the system", RedactUrl(url)));
  }
  const std::string& listed = (*discovered)->system_information;
  if (absl::Status checked = CheckListedUrl(url, "system_information", listed); !checked.ok())
    return checked;
  auto information = Fetch(http, listed);
  if (!information.ok()) return information.status();
  auto system_id = ParseSystemId(*information);
  if (!system_id.ok()) return Prefixed(RedactUrl(listed), system_id.status());
  return system_id;
}

LiveFeed::LiveFeed(LiveFeedOptions options, http::HttpClient& http, Clock& clock)
    : options_(std::move(options)), http_(http), clock_(clock) {}

absl::StatusOr<std::string> LiveFeed::Get(const std::string& url) { return Fetch(http_, url); }

absl::StatusOr<StationStatus> LiveFeed::Poll() {
  if (urls_.station_status.empty()) {
    auto body = Get(options_.url);
    if (!body.ok()) return body.status();
    // Neither gbfs.json nor station_status (an error page, a body cut short): ask again.
    auto discovered = ParseDiscovery(*body);
    if (!discovered.ok()) return Prefixed(RedactUrl(options_.url), discovered.status());
    if (!discovered->has_value()) {
      auto status = ParseStationStatus(*body);
      if (!status.ok()) return Prefixed(RedactUrl(options_.url), status.status());
      urls_.station_status = options_.url;
      return status;
    }
    for (const auto& [name, url] :
         {std::pair("station_status", &(*discovered)->station_status),
          std::pair("station_information", &(*discovered)->station_information)}) {
      if (absl::Status listed = CheckListedUrl(options_.url, name, *url); !listed.ok())
        return listed;
    }
    urls_ = std::move(**discovered);
  }
  auto body = Get(urls_.station_status);
  if (!body.ok()) {
    // The system may have moved its feeds: read gbfs.json again next time.
    if (urls_.station_status != options_.url) urls_ = {};
    return body.status();
  }
  auto status = ParseStationStatus(*body);
  if (!status.ok()) return Prefixed(RedactUrl(urls_.station_status), status.status());
  return status;
}

void LiveFeed::MaybeReadStations(TimestampMicros now) {
  if (!options_.on_stations || (stations_due_ && now < *stations_due_)) return;
  const std::string& url = options_.station_information_url.empty()
                               ? urls_.station_information
                               : options_.station_information_url;
  if (url.empty()) {
    stations_due_ = now + options_.station_information_interval;
    options_.on_stations(absl::NotFoundError(fmt::format(
        "no station_information feed listed at {}: give its URL (--station-information)",
        RedactUrl(options_.url))));
    return;
  }
  auto information = [&]() -> absl::StatusOr<StationInformation> {
    auto body = Get(url);
    if (!body.ok()) return body.status();
    auto parsed = ParseStationInformation(*body);
    if (!parsed.ok()) return Prefixed(RedactUrl(url), parsed.status());
    return parsed;
  }();
  stations_due_ = now + (information.ok() ? options_.station_information_interval
                                          : std::min(kStationsRetryInterval,
                                                     options_.station_information_interval));
  options_.on_stations(std::move(information));
}

absl::Status LiveFeed::ForEachSnapshot(const Visit& visit, const Stop& stop) {
  const RetryPolicy policy{.initial_backoff = options_.min_interval,
                           .max_backoff = options_.max_backoff};
  Backoff backoff(policy);
  std::optional<TimestampMicros> last_updated;
  while (!stop()) {
    const TimestampMicros polled = clock_.Now();
    auto snapshot = Poll();
    TimestampMicros next = polled + options_.min_interval;
    if (snapshot.ok()) {
      backoff = Backoff(policy);
      // The data is due again at last_updated + ttl; a feed whose clock is off by more than its
      // ttl is polled every ttl (never more often than min_interval) rather than not at all.
      const DurationMicros ttl =
          std::min<std::int64_t>(snapshot->ttl_seconds, kLongestTtlSeconds) * kMicrosPerSecond;
      next = std::clamp(snapshot->last_updated + ttl, next,
                        polled + std::max(options_.min_interval, ttl));
      const bool fresh = snapshot->last_updated != last_updated;
      last_updated = snapshot->last_updated;
      if (fresh && !visit(std::move(snapshot))) return absl::OkStatus();
      MaybeReadStations(polled);  // After the events: they never wait for it.
    } else {
      next = polled + std::max(options_.min_interval, backoff.NextDelay());
      if (!visit(std::move(snapshot))) return absl::OkStatus();
    }
    clock_.SleepUntil(next, stop);
  }
  return absl::OkStatus();
}

ReplayFeed::ReplayFeed(std::string path, double speedup, Clock& clock)
    : path_(std::move(path)), speedup_(speedup), clock_(clock) {}

absl::Status ReplayFeed::ForEachSnapshot(const Visit& visit, const Stop& stop) {
  const TimestampMicros started = clock_.Now();
  std::optional<TimestampMicros> first_updated;
  const auto visit_line = [&](const Line& line) {
    const auto where = [&] { return fmt::format("{} line {}", path_, line.number); };
    if (line.truncated) {
      return visit(absl::ResourceExhaustedError(
          fmt::format("{}: longer than {}, more than a station_status "
                      "document may be: skipped",
                      where(), limits::BytesText(limits::kSnapshotLine))));
    }
    auto snapshot = ParseStationStatus(line.text);
    if (!snapshot.ok()) return visit(Prefixed(where(), snapshot.status()));
    if (speedup_ > 0) {
      if (!first_updated) first_updated = snapshot->last_updated;
      const double feed_seconds =
          double(snapshot->last_updated - *first_updated) / kMicrosPerSecond;
      clock_.SleepUntil(
          started + static_cast<TimestampMicros>(feed_seconds / speedup_ * kMicrosPerSecond), stop);
      if (stop()) return false;
    }
    return visit(std::move(snapshot));
  };
  return ForEachSnapshotLine(path_, visit_line, stop);
}

}  // namespace bikestream::gbfs
