#include "warehouse/warehouse.h"

#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/postgres_warehouse.h"
#include "warehouse/sqlite_warehouse.h"

namespace bikestream {

absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouse(std::string_view url,
                                                         const TableNames& tables, OpenMode mode) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite) && url.size() > kSqlite.size()) {
    return OpenSqliteWarehouse(url.substr(kSqlite.size()), tables, mode);
  }
  // libpq reads both schemes; the database must exist whatever the mode.
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return OpenPostgresWarehouse(std::string(url), tables);
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown warehouse URL '{}': use sqlite:PATH (e.g. sqlite:bikestream.db) or "
      "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE", url));
}

std::string RedactPassword(std::string_view url) {
  constexpr std::string_view kMask = "***";
  std::string redacted(url);
  // USER:PASSWORD@ in the authority of a URI.
  if (const auto scheme = redacted.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto end = redacted.find_first_of("/?", start);
    const auto at = redacted.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at != std::string::npos && at > start) {
      const auto colon = redacted.find(':', start);
      if (colon != std::string::npos && colon < at) redacted.replace(colon + 1, at - colon - 1, kMask);
    }
  }
  // password=… as a URI parameter or a key=value setting.
  for (auto at = redacted.find("password="); at != std::string::npos; at = redacted.find("password=", at + 1)) {
    const auto value = at + std::string_view("password=").size();
    const auto end = redacted.find_first_of("& ", value);
    redacted.replace(value, (end == std::string::npos ? redacted.size() : end) - value, kMask);
  }
  return redacted;
}

}  // namespace bikestream
