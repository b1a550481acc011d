// The configured table names, checked before an engine builds SQL from them.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "warehouse/warehouse.h"

namespace bikestream {

// OK when each name is letters, digits and '_', not starting with a digit, at most
// `max_bytes` long, and the four are distinct. `max_bytes` is the engine's identifier limit
// less the longest suffix the engine adds to a table's name (its partitions, indexes and
// ledger), so that no derived name is cut short and none collides with another. The error
// names the environment variable to change and the limit, e.g. for `engine` "PostgreSQL".
absl::Status CheckTableNames(const TableNames& tables, std::size_t max_bytes,
                             std::string_view engine);

}  // namespace bikestream
