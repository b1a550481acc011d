// The embedded warehouse: one SQLite file (WAL mode, synchronous=FULL), see docs/adr/.
#pragma once

#include <memory>
#include <string_view>

#include "warehouse/warehouse.h"

namespace bikestream {

// Opens or creates the database file at `path` (":memory:" for a private in-memory one).
absl::StatusOr<std::unique_ptr<Warehouse>> OpenSqliteWarehouse(std::string_view path,
                                                               const TableNames& tables,
                                                               OpenMode mode);

}  // namespace bikestream
