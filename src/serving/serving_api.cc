#include "serving/serving_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "common/json_text.h"
#include "common/status.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream {
namespace {

// `names` without repeats, in their order.
std::vector<std::string_view> Distinct(const std::vector<std::string>& names) {
  std::vector<std::string_view> distinct;
  std::unordered_set<std::string_view> seen;
  for (const std::string& name : names) {
    if (seen.insert(name).second) distinct.push_back(name);
  }
  return distinct;
}

void AppendNames(std::string& out, const std::vector<std::string_view>& names) {
  out += '[';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += JsonQuote(ValidUtf8(names[i]));
  }
  out += ']';
}

}  // namespace

ServingReply ErrorReply(int status, std::string_view why) {
  return {status, fmt::format("{{\"error\":{}}}", JsonQuote(ValidUtf8(why)))};
}

absl::StatusOr<FeatureRequest> ParseFeatureRequest(std::string_view body) {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  const char* kShape = R"(the body must be {"station_ids": ["A", ...], "features": ["NAME", ...]})";
  if (!json.is_object()) return absl::InvalidArgumentError(kShape);
  FeatureRequest request;
  for (auto [field, names] :
       {std::pair{"station_ids", &request.stations}, std::pair{"features", &request.features}}) {
    auto it = json.find(field);
    if (it == json.end()) continue;
    if (!it->is_array()) return absl::InvalidArgumentError(kShape);
    for (const auto& name : *it) {
      if (!name.is_string()) return absl::InvalidArgumentError(kShape);
      names->push_back(name.get<std::string>());
    }
  }
  return request;
}

ServingReply AnswerFeatures(const FeatureRequest& request, const LatestTick* tick,
                            const ServingRules& rules, TimestampMicros now) {
  const std::vector<std::string_view> stations = Distinct(request.stations);
  if (stations.empty()) {
    return ErrorReply(400,
                      "name the stations: ?station_id=A&station_id=B, or POST "
                      "{\"station_ids\": [...]}");
  }
  if (stations.size() > rules.max_stations) {
    return ErrorReply(400, fmt::format("at most {} stations a request, {} asked for: split it",
                                       rules.max_stations, stations.size()));
  }
  if (!tick) {
    return ErrorReply(503,
                      "no features yet: station_features is empty; run `bikestream features` "
                      "or `bikestream ingest --features streaming`");
  }
  // The features asked for, as indexes into the tick's columns.
  std::vector<std::string_view> asked = Distinct(request.features);
  if (asked.empty()) asked.assign(tick->features.begin(), tick->features.end());
  std::vector<std::pair<std::string_view, std::size_t>> served;
  std::vector<std::string_view> unknown_features;
  for (std::string_view name : asked) {
    auto at = std::find(tick->features.begin(), tick->features.end(), name);
    if (at == tick->features.end()) {
      unknown_features.push_back(name);
    } else {
      served.emplace_back(name, at - tick->features.begin());
    }
  }
  const double age_seconds = double(now - tick->as_of) / kMicrosPerSecond;
  const bool stale = rules.ttl > 0 && now - tick->as_of > rules.ttl;
  const bool withhold = stale && rules.past_ttl == PastTtl::kAbsent;
  // The part every value shares: its as_of, age and staleness.
  const std::string value_tail =
      fmt::format(",\"as_of\":{},\"age_seconds\":{:.3f},\"stale\":{}}}",
                  JsonQuote(tick->as_of_text), age_seconds, stale ? "true" : "false");

  std::string out =
      fmt::format("{{\"as_of\":{},\"ttl_seconds\":{},\"stations\":[", JsonQuote(tick->as_of_text),
                  rules.ttl > 0 ? fmt::format("{}", double(rules.ttl) / kMicrosPerSecond)
                                : std::string("null"));
  out.reserve(out.size() + stations.size() * (32 + served.size() * (48 + value_tail.size())));
  std::vector<std::string_view> unknown_stations;
  bool first_station = true;
  for (std::string_view station : stations) {
    auto row = tick->stations.find(std::string(station));
    if (row == tick->stations.end()) {
      unknown_stations.push_back(station);
      continue;
    }
    if (!first_station) out += ',';
    first_station = false;
    out += "{\"station_id\":";
    out += JsonQuote(row->first);
    out += ",\"features\":{";
    for (std::size_t f = 0; f < served.size(); ++f) {
      if (f) out += ',';
      out += JsonQuote(served[f].first);
      out += ":{\"value\":";
      if (withhold) {
        out += "null";
      } else {
        const QueryResult::Cell& cell = row->second[served[f].second];
        out += JsonScalar(cell.text, cell.is_null, cell.is_number);
      }
      out += value_tail;
    }
    out += "}}";
  }
  out += "],\"unknown_stations\":";
  AppendNames(out, unknown_stations);
  out += ",\"unknown_features\":";
  AppendNames(out, unknown_features);
  out += '}';
  return {200, std::move(out)};
}

ServingReply AnswerFeaturePost(std::string_view body, const LatestTick* tick,
                               const ServingRules& rules, TimestampMicros now) {
  auto request = ParseFeatureRequest(body);
  if (!request.ok()) return ErrorReply(400, MessageOf(request.status()));
  return AnswerFeatures(*request, tick, rules, now);
}

}  // namespace bikestream
