#include "warehouse/sql/table_names.h"

#include <fmt/format.h>

#include <string>

namespace bikestream {
namespace {

struct NamedTable {
  const std::string& name;
  std::string_view variable;  // Where the CLI reads it from (docs/design.md's configuration).
};

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::Status CheckTableNames(const TableNames& tables, std::size_t max_bytes,
                             std::string_view engine) {
  const NamedTable named[] = {{tables.raw_events, "RAW_EVENT_TABLE"},
                              {tables.station_features, "FEATURE_EVENT_TABLE"},
                              {tables.dead_letter, "DEAD_LETTER_TABLE"},
                              {tables.stations, "STATION_TABLE"}};
  for (const NamedTable& table : named) {
    if (!IsPlainIdentifier(table.name)) {
      return absl::InvalidArgumentError(fmt::format(
          "table name '{}' ({}): use letters, digits and '_', not starting with a digit",
          table.name, table.variable));
    }
    if (table.name.size() > max_bytes) {
      return absl::InvalidArgumentError(fmt::format(
          "table name '{}' ({}) is {} bytes; {} allows at most {} here, to leave room for the "
          "partition and index names made from it: set a shorter {}",
          table.name, table.variable, table.name.size(), engine, max_bytes, table.variable));
    }
  }
  for (std::size_t i = 0; i < std::size(named); ++i) {
    for (std::size_t j = i + 1; j < std::size(named); ++j) {
      if (named[i].name == named[j].name) {
        return absl::InvalidArgumentError(
            fmt::format("{} and {} both name the table '{}': give each its own", named[i].variable,
                        named[j].variable, named[i].name));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace bikestream
