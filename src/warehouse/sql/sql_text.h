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

// "'a', 'b'": the names for an IN list.
inline std::string FeatureNameList(const std::vector<std::string>& features) {
  std::string names;
  for (const auto& name : features) names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  return names;
}

// The statements of a script, split at the semicolons outside quotes ('', "", ``) and
// comments (--, #, /* */), each without its semicolon; blank ones left out.
inline std::vector<std::string_view> SplitStatements(std::string_view script) {
  std::vector<std::string_view> statements;
  auto keep = [&](std::size_t from, std::size_t to) {
    std::string_view statement = script.substr(from, to - from);
    if (statement.find_first_not_of(" \t\r\n") != std::string_view::npos)
      statements.push_back(statement);
  };
  std::size_t start = 0;
  for (std::size_t i = 0; i < script.size(); ++i) {
    const char c = script[i];
    if (c == '\'' || c == '"' || c == '`') {
      for (++i; i < script.size() && script[i] != c; ++i) {
        if (script[i] == '\\') ++i;
      }
    } else if (c == '#' || (c == '-' && script.substr(i, 2) == "--")) {
      const std::size_t end = script.find('\n', i);
      i = end == std::string_view::npos ? script.size() : end;
    } else if (c == '/' && script.substr(i, 2) == "/*") {
      const std::size_t end = script.find("*/", i + 2);
      i = end == std::string_view::npos ? script.size() : end + 1;
    } else if (c == ';') {
      keep(start, i);
      start = i + 1;
    }
  }
  keep(start, script.size());
  return statements;
}

}  // namespace bikestream
