#include "gbfs/discovery.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "absl/strings/match.h"
#include "common/redact.h"

namespace bikestream::gbfs {
namespace {

using simdjson::dom::element;

// The feeds list: data.feeds (3.0), else data.en.feeds, else the first language's (2.x).
simdjson::simdjson_result<simdjson::dom::array> FeedsOf(const element& document) {
  element data;
  if (auto error = document["data"].get(data); error) return error;
  if (simdjson::dom::array feeds; data["feeds"].get_array().get(feeds) == simdjson::SUCCESS)
    return feeds;
  if (simdjson::dom::array feeds; data["en"]["feeds"].get_array().get(feeds) == simdjson::SUCCESS)
    return feeds;
  simdjson::dom::object languages;
  if (auto error = data.get_object().get(languages); error) return error;
  for (auto [language, value] : languages) {
    if (simdjson::dom::array feeds; value["feeds"].get_array().get(feeds) == simdjson::SUCCESS)
      return feeds;
  }
  return simdjson::NO_SUCH_FIELD;
}

}  // namespace

absl::StatusOr<std::optional<FeedUrls>> ParseDiscovery(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  element document;
  if (auto error = parser.parse(json.data(), json.size()).get(document); error) {
    return absl::InvalidArgumentError(fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::array feeds;
  if (FeedsOf(document).get(feeds) != simdjson::SUCCESS) return std::nullopt;
  FeedUrls urls;
  for (element feed : feeds) {
    std::string_view name;
    std::string_view url;
    if (feed["name"].get_string().get(name) != simdjson::SUCCESS ||
        feed["url"].get_string().get(url) != simdjson::SUCCESS) {
      continue;
    }
    if (name == "station_status") urls.station_status = std::string(url);
    if (name == "station_information") urls.station_information = std::string(url);
    if (name == "system_information") urls.system_information = std::string(url);
  }
  if (urls.station_status.empty()) {
    return absl::InvalidArgumentError(
        "the gbfs.json lists no station_status feed: this system has no docked stations");
  }
  return urls;
}

absl::StatusOr<std::string> ParseSystemId(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  element document;
  if (auto error = parser.parse(json.data(), json.size()).get(document); error) {
    return absl::InvalidArgumentError(fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  std::string_view system_id;
  if (document["data"]["system_id"].get_string().get(system_id) != simdjson::SUCCESS ||
      system_id.empty()) {
    return absl::InvalidArgumentError("not a system_information document: no data.system_id");
  }
  return std::string(system_id);
}

absl::Status CheckListedUrl(const std::string& feed, std::string_view name,
                            const std::string& listed) {
  const bool https_feed = absl::StartsWithIgnoreCase(feed, "https://");
  if (listed.empty() || absl::StartsWithIgnoreCase(listed, "https://")) return absl::OkStatus();
  if (!https_feed && absl::StartsWithIgnoreCase(listed, "http://")) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("{} lists {} at '{}': refused, a feed asked for over {} is read over {} only",
                  RedactUrl(feed), name, RedactUrl(listed), https_feed ? "https" : "http",
                  https_feed ? "https" : "http or https"));
}

}  // namespace bikestream::gbfs
