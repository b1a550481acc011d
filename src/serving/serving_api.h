// The answers of the serving endpoint, apart from HTTP: which stations and features a request
// asks for, and each station's values from the latest tick with their as_of, age and whether
// they are past the TTL. JSON types as `training-set --format jsonl` writes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time.h"
#include "serving/latest_features.h"

namespace bikestream {

// What a value past the TTL is served as: never as a present, fresh value.
enum class PastTtl {
  kStale,   // The value, marked "stale": true.
  kAbsent,  // null, marked "stale": true.
};

struct ServingRules {
  DurationMicros ttl = 0;  // A value older than this is past it; 0: values never expire.
  PastTtl past_ttl = PastTtl::kStale;
  std::size_t max_stations = 1'000;  // Stations one request may ask for.
};

struct FeatureRequest {
  std::vector<std::string> stations;
  std::vector<std::string> features;  // Empty: every served feature.
};

struct ServingReply {
  int status = 200;
  std::string body;  // JSON; for an error, {"error": "what to fix"}.
};

// {"error": why}, with `status`.
ServingReply ErrorReply(int status, std::string_view why);

// POST /v1/features's body: {"station_ids": [...], "features": [...]} ("features" optional).
absl::StatusOr<FeatureRequest> ParseFeatureRequest(std::string_view body);

// The answer to `request` from `tick` (nullptr: none read yet) at `now`:
// {"as_of": ..., "stations": [{"station_id": ..., "features": {NAME: {"value": ..., "as_of":
// ..., "age_seconds": ..., "stale": ...}}}], "unknown_stations": [...], "unknown_features":
// [...]}. Unknown stations and features are named, not an error.
ServingReply AnswerFeatures(const FeatureRequest& request, const LatestTick* tick,
                            const ServingRules& rules, TimestampMicros now);

// The answer to a POST of `body`: AnswerFeatures' to the request it holds, or a 400 that says
// what the body must be.
ServingReply AnswerFeaturePost(std::string_view body, const LatestTick* tick,
                               const ServingRules& rules, TimestampMicros now);

}  // namespace bikestream
