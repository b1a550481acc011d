// The embedded warehouse: one SQLite file (WAL mode, synchronous=FULL); see
// docs/adr/0002-exactly-once-in-sqlite.md and 0003-sqlite-schema.md.
#pragma once

#include <memory>
#include <string_view>

#include "warehouse/warehouse.h"

namespace bikestream {

// Opens or creates the database of `url`, sqlite:PATH (sqlite::memory: for a private
// in-memory one).
absl::StatusOr<std::unique_ptr<Warehouse>> OpenSqliteWarehouse(std::string_view url,
                                                               const TableNames& tables,
                                                               OpenMode mode);

}  // namespace bikestream
