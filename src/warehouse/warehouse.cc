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

}  // namespace bikestream
