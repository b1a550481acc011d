// The console's JSON API (docs/console.md): what the page draws, read from the warehouse through
// its roles, and the one action on it, dead-letter replay. Kept apart from HTTP so that each
// answer can be tested on every engine: a request is a path and its query parameters, a reply a
// status and a JSON body. Thread-safe: the warehouse is used by one request at a time.
#pragma once

#include <concepts>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "features/feature_spec.h"
#include "warehouse/activity_reader.h"
#include "warehouse/dead_letter_store.h"
#include "warehouse/event_history.h"
#include "warehouse/feature_store.h"
#include "warehouse/station_directory.h"

namespace bikestream {

struct ApiReply {
  int status = 200;
  std::string body;  // JSON; for an error, {"error": "what to fix"}.
};

using ApiParams = std::map<std::string, std::string, std::less<>>;

// The longest period a plot may ask for: 31 days of 15-minute buckets, 2,976 points.
inline constexpr DurationMicros kMaxPlotPeriod = 31 * 24 * kMicrosPerHour;

// The roles of one store the console uses: what it reads, and the dead letters a replay resolves.
// Made of any store that plays them all (a Warehouse).
struct ConsoleWarehouse {
  template <typename Store>
  requires std::derived_from<Store, ActivityReader>
  explicit ConsoleWarehouse(Store& store)
      : activity(store), stations(store), features(store), events(store), dead_letters(store) {}

  ActivityReader& activity;
  StationDirectory& stations;
  FeatureStore& features;
  EventHistory& events;
  DeadLetterStore& dead_letters;
};

class ConsoleApi {
 public:
  // `warehouse` must outlive the API; `name` says which one it is, as safe to show (no password);
  // `features` is the feature set the page lists (the feature file's, or docs/design.md's); `clock`
  // places the default period of an empty warehouse.
  ConsoleApi(ConsoleWarehouse warehouse, std::string name, std::vector<FeatureSpec> features,
             Clock* clock = &SystemClock());

  // GET /api/<path>: summary, stations, activity, busiest, features, dead-letters.
  ApiReply Get(std::string_view path, const ApiParams& params);
  // POST /api/<path>: dead-letters/replay.
  ApiReply Post(std::string_view path, const ApiParams& params);

 private:
  enum class Latest { kEvent, kFeatures };
  // The week up to the latest event's bucket, or up to the latest feature tick.
  absl::StatusOr<TimePeriod> LatestWeek(Latest latest = Latest::kEvent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // What a request's missing bounds default to: LatestWeek, read (a warehouse query) only when
  // the request does not give both.
  absl::StatusOr<TimePeriod> DefaultWeek(const ApiParams& params, Latest latest)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  ApiReply Summary() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  ApiReply Stations() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  ApiReply Activity(const ApiParams& params) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  ApiReply Busiest(const ApiParams& params) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  ApiReply Features(const ApiParams& params) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  ApiReply DeadLetters(const ApiParams& params) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  ApiReply Replay(const ApiParams& params) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  absl::Mutex mutex_;
  ConsoleWarehouse warehouse_ ABSL_GUARDED_BY(mutex_);
  const std::string name_;
  const std::vector<FeatureSpec> features_;
  Clock* const clock_;
};

}  // namespace bikestream
