#include "console/console_api.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "common/mutex.h"
#include "common/redact.h"
#include "common/status.h"
#include "event/timestamp.h"
#include "features/aggregates.h"
#include "ingest/dead_letter_replay.h"

namespace bikestream {
namespace {

using json = nlohmann::ordered_json;

constexpr DurationMicros kDay = 24 * kMicrosPerHour;
constexpr DurationMicros kWeek = 7 * kDay;
constexpr TimestampMicros kMaxPlotPoints =
    20'000;  // Per series: what a plot of dead letters may ask for.
constexpr std::size_t kMaxSamplePayload = 4096;  // Bytes of a dead letter's payload shown.

ApiReply Json(const json& body, int status = 200) {
  // Payloads are kept as received, so they may hold bytes that are not UTF-8: shown as U+FFFD.
  return ApiReply{status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

// An error may quote a warehouse's words, and they what it was sent: shown redacted.
ApiReply Error(int status, std::string_view what) {
  return Json({{"error", RedactSecrets(what)}}, status);
}

// A warehouse that failed to answer: the page says so and tries again on its next refresh.
// A warehouse's error: 503 when it cannot be reached now (the console's gate then answers 503
// at once for a while: warehouse_gate.h), 500 for one that trying again does not cure (a
// read-only SQLite file for the station views).
ApiReply WarehouseError(const absl::Status& status) {
  const bool unreachable = absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
  return Error(unreachable ? 503 : 500, MessageOf(status));
}

double Seconds(TimestampMicros micros) { return static_cast<double>(micros) / kMicrosPerSecond; }

std::string ParamOr(const ApiParams& params, std::string_view name) {
  const auto found = params.find(name);
  return found == params.end() ? "" : found->second;
}

// [from, to) from ?from= and ?to= (RFC 3339); a bound not given is the default's. (A station's
// features read both ends: its latest tick is at `to`.)
absl::StatusOr<TimePeriod> PeriodOf(const ApiParams& params, TimePeriod fallback) {
  TimePeriod period = fallback;
  for (auto [name, bound] : {std::pair{"from", &period.from}, std::pair{"to", &period.to}}) {
    const std::string text = ParamOr(params, name);
    if (text.empty()) continue;
    auto parsed = ParseRfc3339(text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(fmt::format("{}={}: {} (e.g. 2024-10-07T00:00:00Z)", name,
                                                    text, MessageOf(parsed.status())));
    }
    *bound = *parsed;
  }
  if (period.from >= period.to) return absl::InvalidArgumentError("from must be before to");
  if (period.to - period.from > kMaxPlotPeriod) {
    return absl::InvalidArgumentError("the period is longer than 31 days: ask for a shorter one");
  }
  return period;
}

absl::StatusOr<std::size_t> CountParam(const ApiParams& params, std::string_view name,
                                       std::size_t fallback, std::size_t max) {
  const std::string text = ParamOr(params, name);
  if (text.empty()) return fallback;
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > max) {
    return absl::InvalidArgumentError(
        fmt::format("{}={}: give a whole number from 1 to {}", name, text, max));
  }
  return value;
}

// ?reason=CODE, when given.
absl::StatusOr<std::optional<std::string>> ReasonParam(const ApiParams& params) {
  std::string reason = ParamOr(params, "reason");
  if (reason.empty()) return std::nullopt;
  if (!IsReasonCode(reason)) {
    return absl::InvalidArgumentError(
        fmt::format("reason={}: not a reason code (see docs/events.md)", reason));
  }
  return reason;
}

json PeriodJson(const TimePeriod& period) {
  return {{"from", FormatRfc3339(period.from)}, {"to", FormatRfc3339(period.to)}};
}

json ActivityJson(const Activity& activity) {
  return {{"pickups", activity.pickups},
          {"pickup_bikes", activity.pickup_bikes},
          {"dropoffs", activity.dropoffs},
          {"dropoff_bikes", activity.dropoff_bikes}};
}

std::string FeatureColumn(std::string_view name, std::string_view window) {
  return fmt::format("{}_{}", name, window);
}

}  // namespace

ConsoleApi::ConsoleApi(ConsoleWarehouse warehouse, std::string name,
                       std::vector<FeatureSpec> features, Clock* clock)
    : warehouse_(warehouse),
      name_(std::move(name)),
      features_(std::move(features)),
      clock_(clock) {}

ApiReply ConsoleApi::Get(std::string_view path, const ApiParams& params) {
  MutexLock lock(&mutex_);
  if (path == "summary") return Summary();
  if (path == "stations") return Stations();
  if (path == "activity") return Activity(params);
  if (path == "busiest") return Busiest(params);
  if (path == "features") return Features(params);
  if (path == "dead-letters") return DeadLetters(params);
  return Error(404, fmt::format("no such API: /api/{} (see docs/console.md)", path));
}

ApiReply ConsoleApi::Post(std::string_view path, const ApiParams& params) {
  MutexLock lock(&mutex_);
  if (path == "dead-letters/replay") return Replay(params);
  return Error(404, fmt::format("no such action: POST /api/{} (see docs/console.md)", path));
}

// The week of event time up to the end of the latest event's bucket (what a page shows first),
// or the week of ticks up to the latest one stored; up to now in an empty warehouse.
absl::StatusOr<TimePeriod> ConsoleApi::LatestWeek(Latest latest) {
  if (latest == Latest::kFeatures) {
    auto tick = warehouse_.features.LatestFeatureTime();
    if (!tick.ok()) return tick.status();
    const TimestampMicros end = tick->value_or(clock_->Now());
    return TimePeriod{end - kWeek, end};
  }
  auto event = warehouse_.events.LatestEventTime();
  if (!event.ok()) return event.status();
  const TimestampMicros end = ActivityBucketOf(event->value_or(clock_->Now())) + kActivityBucket;
  return TimePeriod{end - kWeek, end};
}

absl::StatusOr<TimePeriod> ConsoleApi::DefaultWeek(const ApiParams& params, Latest latest) {
  if (!ParamOr(params, "from").empty() && !ParamOr(params, "to").empty())
    return TimePeriod{};  // Never used.
  return LatestWeek(latest);
}

ApiReply ConsoleApi::Summary() {
  auto events = warehouse_.events.LatestEventTime();
  if (!events.ok()) return WarehouseError(events.status());
  auto features = warehouse_.features.LatestFeatureTime();
  if (!features.ok()) return WarehouseError(features.status());
  auto instant = [](const std::optional<TimestampMicros>& t) {
    return t ? json(FormatRfc3339(*t)) : json();
  };
  json feature_set = json::array();
  for (const FeatureSpec& spec : features_) {
    feature_set.push_back({{"column", FeatureColumn(spec.name, spec.window_len)},
                           {"name", spec.name},
                           {"window", spec.window_len},
                           {"aggregate", AggregateOf(spec.aggregate).name},
                           {"kind", spec.kind ? json(KindName(*spec.kind)) : json()}});
  }
  return Json({{"warehouse", name_},
               {"latest_event", instant(*events)},
               {"latest_features", instant(*features)},
               {"bucket_seconds", kActivityBucket / kMicrosPerSecond},
               {"feature_set", feature_set}});
}

// Every station the warehouse knows of: described in the stations table, with features, or
// with events in the latest week; each with its place and its latest features.
ApiReply ConsoleApi::Stations() {
  auto described = warehouse_.stations.ListStations();
  if (!described.ok()) return WarehouseError(described.status());
  auto as_of = warehouse_.features.LatestFeatureTime();
  if (!as_of.ok()) return WarehouseError(as_of.status());
  std::vector<FeatureRow> latest;
  if (*as_of) {
    auto rows = warehouse_.features.StoredFeatures(**as_of);
    if (!rows.ok()) return WarehouseError(rows.status());
    latest = std::move(*rows);
  }
  auto week = LatestWeek();
  if (!week.ok()) return WarehouseError(week.status());
  auto active = warehouse_.activity.BusiestStations(*week, std::numeric_limits<std::size_t>::max());
  if (!active.ok()) return WarehouseError(active.status());

  std::map<std::string, json> stations;
  auto entry = [&](const std::string& id) -> json& {
    json& station = stations[id];
    if (station.is_null())
      station = {{"station_id", id}, {"features", json::object()}, {"events_in_week", 0}};
    return station;
  };
  for (const Station& s : *described) {
    json& station = entry(s.station_id);
    station["name"] = s.name;
    station["lat"] = s.lat;
    station["lon"] = s.lon;
    station["capacity"] = s.capacity ? json(*s.capacity) : json();
  }
  for (const FeatureRow& row : latest)
    entry(row.station_id)["features"][FeatureColumn(row.feature_name, row.window_len)] = row.value;
  for (const StationActivity& s : *active)
    entry(s.station_id)["events_in_week"] = s.activity.events();
  json list = json::array();
  for (auto& [id, station] : stations) list.push_back(std::move(station));
  return Json({{"features_as_of", *as_of ? json(FormatRfc3339(**as_of)) : json()},
               {"week", PeriodJson(*week)},
               {"stations", list}});
}

// A station's buckets over a period, every bucket of it (empty ones as zeros), so that a plot has
// one point per bucket: 15 minutes, or ?bucket=3600 or 86400 (an hour, a day in UTC), whose
// sums read better over weeks of sparse data.
ApiReply ConsoleApi::Activity(const ApiParams& params) {
  const std::string station = ParamOr(params, "station");
  if (station.empty()) return Error(400, "give ?station=ID (the ids are in /api/stations)");
  const std::string bucket_text = ParamOr(params, "bucket");
  if (!bucket_text.empty() && bucket_text != "900" && bucket_text != "3600" &&
      bucket_text != "86400") {
    return Error(400, "?bucket= is 900, 3600 or 86400 (seconds: 15 minutes, an hour, a day)");
  }
  const TimestampMicros size =
      (bucket_text.empty() ? 900 : std::stoll(bucket_text)) * kMicrosPerSecond;
  const auto coarse = [size](TimestampMicros t) { return t - ((t % size) + size) % size; };
  auto week = DefaultWeek(params, Latest::kEvent);
  if (!week.ok()) return WarehouseError(week.status());
  auto period = PeriodOf(params, *week);
  if (!period.ok()) return Error(400, MessageOf(period.status()));
  auto buckets = warehouse_.activity.StationBuckets(station, *period);
  if (!buckets.ok()) return WarehouseError(buckets.status());
  std::vector<std::pair<TimestampMicros, bikestream::Activity>> sums;
  auto stored = buckets->begin();
  for (TimestampMicros start = ActivityBucketAtOrAfter(period->from); start < period->to;
       start += kActivityBucket) {
    if (sums.empty() || sums.back().first != coarse(start))
      sums.emplace_back(coarse(start), bikestream::Activity{});
    if (stored == buckets->end() || stored->start != start) continue;
    const bikestream::Activity& activity = (stored++)->activity;
    bikestream::Activity& sum = sums.back().second;
    sum.pickups += activity.pickups;
    sum.pickup_bikes += activity.pickup_bikes;
    sum.dropoffs += activity.dropoffs;
    sum.dropoff_bikes += activity.dropoff_bikes;
  }
  json points = json::array();
  for (const auto& [start, activity] : sums) {
    json point = ActivityJson(activity);
    point["t"] = Seconds(start);
    points.push_back(std::move(point));
  }
  json body = PeriodJson(*period);
  body["station_id"] = station;
  body["bucket_seconds"] = size / kMicrosPerSecond;
  body["buckets"] = std::move(points);
  return Json(body);
}

ApiReply ConsoleApi::Busiest(const ApiParams& params) {
  auto week = DefaultWeek(params, Latest::kEvent);
  if (!week.ok()) return WarehouseError(week.status());
  auto period = PeriodOf(params, *week);
  if (!period.ok()) return Error(400, MessageOf(period.status()));
  auto limit = CountParam(params, "limit", 10, 1000);
  if (!limit.ok()) return Error(400, MessageOf(limit.status()));
  auto busiest = warehouse_.activity.BusiestStations(*period, *limit);
  if (!busiest.ok()) return WarehouseError(busiest.status());
  json list = json::array();
  for (const StationActivity& s : *busiest) {
    json station = ActivityJson(s.activity);
    station["station_id"] = s.station_id;
    station["events"] = s.activity.events();
    list.push_back(std::move(station));
  }
  json body = PeriodJson(*period);
  body["stations"] = std::move(list);
  return Json(body);
}

// A station's stored features over a period: one series per feature column, one point per
// as_of (null where a tick has no row for it).
ApiReply ConsoleApi::Features(const ApiParams& params) {
  const std::string station = ParamOr(params, "station");
  if (station.empty()) return Error(400, "give ?station=ID (the ids are in /api/stations)");
  auto week = DefaultWeek(params, Latest::kFeatures);
  if (!week.ok()) return WarehouseError(week.status());
  auto period = PeriodOf(params, *week);
  if (!period.ok()) return Error(400, MessageOf(period.status()));
  // Both ends count here: a tick at `to` is the latest one.
  auto rows = warehouse_.features.StationFeatureHistory(station, period->from, period->to);
  if (!rows.ok()) return WarehouseError(rows.status());
  std::vector<TimestampMicros> ticks;
  std::set<std::string> columns;
  for (const FeatureRow& row : *rows) {
    if (ticks.empty() || ticks.back() != row.as_of) ticks.push_back(row.as_of);
    columns.insert(FeatureColumn(row.feature_name, row.window_len));
  }
  json series = json::object();
  for (const std::string& column : columns) series[column] = json::array();
  std::size_t tick = 0;
  auto row = rows->begin();
  for (; tick < ticks.size(); ++tick) {
    for (auto& values : series) values.push_back(nullptr);
    for (; row != rows->end() && row->as_of == ticks[tick]; ++row) {
      series[FeatureColumn(row->feature_name, row->window_len)][tick] = row->value;
    }
  }
  json as_of = json::array();
  for (TimestampMicros t : ticks) as_of.push_back(Seconds(t));
  json body = PeriodJson(*period);
  body["station_id"] = station;
  body["as_of"] = std::move(as_of);
  body["series"] = std::move(series);
  return Json(body);
}

// The dead letters first seen in a period (by default the day up to now, or the bucket now is
// in when a bucket is longer than a day) by reason and bucket, and samples of them all.
ApiReply ConsoleApi::DeadLetters(const ApiParams& params) {
  auto bucket_seconds = CountParam(params, "bucket", 60, 7 * 24 * 3600);
  if (!bucket_seconds.ok()) return Error(400, MessageOf(bucket_seconds.status()));
  const DurationMicros bucket = static_cast<TimestampMicros>(*bucket_seconds) * kMicrosPerSecond;
  const TimestampMicros now = clock_->Now();
  const TimestampMicros end =
      now - ((now % bucket) + bucket) % bucket + bucket;  // Of now's bucket.
  auto period = PeriodOf(params, TimePeriod{end - std::max(kDay, bucket), end});
  if (!period.ok()) return Error(400, MessageOf(period.status()));
  if ((period->to - period->from) / bucket > kMaxPlotPoints) {
    return Error(
        400, fmt::format("the period holds more than {} buckets of {} s: ask for a larger ?bucket=",
                         kMaxPlotPoints, *bucket_seconds));
  }
  auto limit = CountParam(params, "limit", 20, 200);
  if (!limit.ok()) return Error(400, MessageOf(limit.status()));
  auto reason = ReasonParam(params);
  if (!reason.ok()) return Error(400, MessageOf(reason.status()));
  const DeadLetterFilter filter{.reason = *reason, .limit = *limit};
  auto counts = warehouse_.dead_letters.CountDeadLetters(bucket, *period);
  if (!counts.ok()) return WarehouseError(counts.status());
  auto samples = warehouse_.dead_letters.ListDeadLetters(filter);
  if (!samples.ok()) return WarehouseError(samples.status());
  json by_reason = json::object();
  json points = json::array();
  for (const DeadLetterCount& count : *counts) {
    by_reason[count.reason] = by_reason.value(count.reason, std::int64_t{0}) + count.count;
    points.push_back(
        {{"reason", count.reason}, {"t", Seconds(count.bucket)}, {"count", count.count}});
  }
  json letters = json::array();
  for (const DeadLetter& letter : *samples) {
    const bool cut = letter.payload.size() > kMaxSamplePayload;
    letters.push_back(
        {{"id", letter.id},
         {"first_seen", FormatRfc3339(letter.first_seen)},
         {"source", letter.source},
         {"message_id", letter.message_id},
         {"reason", letter.reason},
         {"error", letter.error},
         {"payload", cut ? letter.payload.substr(0, kMaxSamplePayload) : letter.payload},
         {"payload_truncated", cut}});
  }
  json body = PeriodJson(*period);
  body.update({{"bucket_seconds", *bucket_seconds},
               {"by_reason", by_reason},
               {"counts", points},
               {"samples", letters}});
  return Json(body);
}

ApiReply ConsoleApi::Replay(const ApiParams& params) {
  auto reason = ReasonParam(params);
  if (!reason.ok()) return Error(400, MessageOf(reason.status()));
  auto result = ReplayDeadLetters(warehouse_.dead_letters, *reason);
  if (!result.ok()) return WarehouseError(result.status());
  return Json({{"examined", result->examined},
               {"stored", result->stored},
               {"duplicates", result->duplicates},
               {"still_invalid", result->still_invalid}});
}

}  // namespace bikestream
