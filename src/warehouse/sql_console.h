// SqlConsole: one SQL statement run for a person (`query`, `show`).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "warehouse/query_result.h"

namespace bikestream {

class SqlConsole {
 public:
  virtual ~SqlConsole() = default;

  // Runs one SQL statement (kInvalidArgument for several) and returns its rows. Not retried:
  // the statement may not be idempotent.
  virtual absl::StatusOr<QueryResult> Query(std::string_view sql) = 0;
};

}  // namespace bikestream
