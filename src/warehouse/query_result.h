// What a query or a training set returns: rows as text, ready to print.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bikestream {

// A query's result as text, ready to print. Timestamps are already ISO 8601.
struct QueryResult {
  struct Cell {
    std::string text;
    bool is_null = false;
    bool is_number = false;
  };
  std::vector<std::string> columns;  // Empty for a statement that returns no rows.
  std::vector<std::vector<Cell>> rows;
  std::int64_t rows_changed = 0;  // For INSERT, UPDATE and DELETE.
};

}  // namespace bikestream
