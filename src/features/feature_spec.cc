#include "features/feature_spec.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <set>

#include "absl/status/status.h"
#include "common/file.h"
#include "common/limits.h"
#include "common/status.h"
#include "features/aggregates.h"

namespace bikestream {
namespace {

constexpr std::string_view kAllTime = "all_time";

bool IsFeatureName(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
}

absl::Status Error(std::string_view file, const toml::source_region& where, std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("{}:{}: {}", file, where.begin.line, what));
}

absl::StatusOr<FeatureSpec> ParseOne(const toml::table& table, std::string_view file) {
  const auto& where = table.source();
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (auto value = table[key].value<std::string>()) return *value;
    return std::nullopt;
  };
  for (auto&& [key, node] : table) {
    const std::string_view k = key.str();
    if (k != "name" && k != "window" && k != "aggregate" && k != "kind" && k != "share") {
      return Error(
          file, node.source(),
          fmt::format("unknown field '{}' (expected name, window, aggregate, kind, share)", k));
    }
  }
  FeatureSpec spec;
  auto name = text("name");
  if (!name || !IsFeatureName(*name)) {
    return Error(file, table["name"].node() ? table["name"].node()->source() : where,
                 "field 'name' must be a string of [a-z0-9_] (at most 64)");
  }
  // A training set's own columns: a feature of that name would be a second column of it.
  if (*name == "station_id" || *name == "as_of" || *name == "ts") {
    return Error(
        file, table["name"].node() ? table["name"].node()->source() : where,
        fmt::format("feature name '{}' is a column of every training set; choose another", *name));
  }
  spec.name = *name;
  auto window = text("window");
  if (!window)
    return Error(file, where,
                 fmt::format("feature '{}': missing field 'window' (e.g. \"2h\" or \"all_time\")",
                             spec.name));
  spec.window_len = *window;
  if (*window != kAllTime) {
    auto micros = ParseDuration(*window);
    if (!micros.ok() || *micros < kMinWindow || *micros > kMaxWindow) {
      return Error(
          file, table["window"].node()->source(),
          fmt::format(
              "feature '{}': field 'window' must be a duration from {}s to {}d, like 30m, 2h, 7d, "
              "or all_time",
              spec.name, kMinWindow / kMicrosPerSecond, kMaxWindow / (24 * kMicrosPerHour)));
    }
    spec.window = *micros;
  }
  auto aggregate = text("aggregate");
  if (!aggregate)
    return Error(file, where, fmt::format("feature '{}': missing field 'aggregate'", spec.name));
  bool known = false;
  for (const AggregateInfo& info : Aggregates()) {
    if (info.name == *aggregate) {
      spec.aggregate = info.aggregate;
      known = true;
    }
  }
  if (!known) {
    return Error(
        file, table["aggregate"].node()->source(),
        fmt::format("feature '{}': field 'aggregate' must be {}", spec.name, AggregateNames()));
  }
  if (auto kind = text("kind")) {
    if (*kind == "pickup") {
      spec.kind = Kind::kPickup;
    } else if (*kind == "dropoff") {
      spec.kind = Kind::kDropoff;
    } else {
      return Error(file, table["kind"].node()->source(),
                   fmt::format("feature '{}': field 'kind' must be pickup or dropoff", spec.name));
    }
  } else if (table.contains("kind")) {
    return Error(file, table["kind"].node()->source(),
                 fmt::format("feature '{}': field 'kind' must be a string", spec.name));
  }
  if (table.contains("share")) {
    auto share = table["share"].value<double>();
    if (spec.aggregate != Aggregate::kTopShare || !share || !(*share > 0 && *share <= 1)) {
      return Error(
          file, table["share"].node()->source(),
          fmt::format("feature '{}': field 'share' is for top_share only, a number in (0, 1]",
                      spec.name));
    }
    spec.share = *share;
  }
  return spec;
}

}  // namespace

std::vector<std::string> FeatureNames(const std::vector<FeatureSpec>& features) {
  std::vector<std::string> names;
  names.reserve(features.size());
  for (const FeatureSpec& f : features) names.push_back(f.name);
  return names;
}

std::vector<FeatureSpec> DefaultFeatures() {
  return {
      {.name = "pickup_count",
       .window_len = "2h",
       .window = 2 * kMicrosPerHour,
       .aggregate = Aggregate::kCount,
       .kind = Kind::kPickup},
      {.name = "dropoff_count",
       .window_len = "2h",
       .window = 2 * kMicrosPerHour,
       .aggregate = Aggregate::kCount,
       .kind = Kind::kDropoff},
      {.name = "avg_delta_pickup",
       .window_len = "24h",
       .window = 24 * kMicrosPerHour,
       .aggregate = Aggregate::kAvg,
       .kind = Kind::kPickup},
      {.name = "is_peak_station",
       .window_len = "all_time",
       .window = std::nullopt,
       .aggregate = Aggregate::kTopShare,
       .kind = Kind::kPickup,
       .share = 0.1},
  };
}

absl::StatusOr<std::vector<FeatureSpec>> ParseFeatureFile(std::string_view toml_text,
                                                          std::string_view file_name) {
  toml::table root;
  try {  // toml++ reports syntax errors as exceptions; this is its adapter's edge.
    root = toml::parse(toml_text, file_name);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: {}", file_name, error.source().begin.line, error.description()));
  }
  const toml::array* features = root["feature"].as_array();
  if (!features || features->empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: no features; declare each as a [[feature]] table with name, window and aggregate",
        file_name));
  }
  std::vector<FeatureSpec> specs;
  std::set<std::string> names;
  for (const toml::node& node : *features) {
    const toml::table* table = node.as_table();
    if (!table) return Error(file_name, node.source(), "each feature must be a [[feature]] table");
    auto spec = ParseOne(*table, file_name);
    if (!spec.ok()) return spec.status();
    if (!names.insert(spec->name).second) {
      return Error(file_name, table->source(),
                   fmt::format("feature '{}' is declared twice", spec->name));
    }
    specs.push_back(std::move(*spec));
  }
  return specs;
}

absl::StatusOr<std::vector<FeatureSpec>> LoadFeatureFile(const std::string& path) {
  auto text = ReadWholeFile(path, limits::kSmallFile);
  if (!text.ok()) {
    return absl::Status(text.status().code(), fmt::format("cannot read feature file '{}' ({})",
                                                          path, MessageOf(text.status())));
  }
  return ParseFeatureFile(*text, path);
}

std::size_t TopShareRank(double share, std::size_t stations) {
  return static_cast<std::size_t>(std::ceil(share * double(stations) - kTopShareRankTolerance));
}

}  // namespace bikestream
