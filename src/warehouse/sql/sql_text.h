// SQL text that every SQL warehouse writes the same way. Table names come from flags and the
// environment, so they are always quoted.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace bikestream {

// Quotes an identifier for SQL ("name" with inner quotes doubled), as SQLite and PostgreSQL
// both read it.
inline std::string QuoteIdentifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

// The PIVOT of station_features (alias f) into one column per feature, for a GROUP BY of
// station and as_of. Feature names are [a-z0-9_], checked when their file is parsed, so they
// quote as they are.
inline std::string FeatureColumns(const std::vector<std::string>& features) {
  std::string columns;
  for (const std::string& name : features) {
    columns += fmt::format(", max(CASE WHEN f.feature_name = '{}' THEN f.value END) AS {}", name,
                           QuoteIdentifier(name));
  }
  return columns;
}

// "'a', 'b'": the names for an IN list.
inline std::string FeatureNameList(const std::vector<std::string>& features) {
  std::string names;
  for (const auto& name : features) names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  return names;
}

}  // namespace bikestream
