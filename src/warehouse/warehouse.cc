#include "warehouse/warehouse.h"

#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/sqlite_warehouse.h"

namespace bikestream {

absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouse(std::string_view url,
                                                         const TableNames& tables, OpenMode mode) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite) && url.size() > kSqlite.size()) {
    return OpenSqliteWarehouse(url.substr(kSqlite.size()), tables, mode);
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown warehouse URL '{}': use sqlite:PATH (e.g. sqlite:bikestream.db)", url));
}

}  // namespace bikestream
