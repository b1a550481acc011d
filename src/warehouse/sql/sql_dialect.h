// What differs between the SQL engines in the SQL they share (warehouse/sql/): how a parameter
// is written, how instants are stored and read back, a few functions, identifier quoting and
// text order. Each engine defines its one `SqlDialect` (e.g. sqlite/dialect.cc); the shared
// queries are written once against it, so engines return identical rows on the same data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace bikestream {

struct SqlDialect {
  // The n-th parameter, an instant to compare with the tables' instant columns: ?1, CAST($1 AS
  // timestamptz), @p1. Parameters are numbered from 1 in every dialect, in the order each
  // shared query documents.
  std::function<std::string(int n)> instant;
  // An instant expression as integer microseconds since the epoch.
  std::function<std::string(std::string_view instant)> micros;
  // An instant expression minus a duration.
  std::function<std::string(std::string_view instant, std::int64_t micros)> minus;
  // Integer microseconds rounded down to a multiple of `bucket` (also before 1970).
  std::function<std::string(std::string_view micros, std::int64_t bucket)> bucket_start;
  // ceil(x) − 1 as an integer, and never negative: the number of stations ranked above the k-th.
  std::function<std::string(const std::string& x)> rank_offset;
  // A table or column name as SQL: "name" or `name`.
  std::function<std::string(std::string_view name)> quote;
  std::string real;        // The double-precision type.
  std::string text_order;  // After a text column in ORDER BY, so that text sorts by its bytes.

  // How a newer row replaces a stored one with the same key.
  enum class Upsert {
    kOnConflict,        // INSERT ... ON CONFLICT DO UPDATE ... WHERE.
    kDeleteThenInsert,  // One transaction: DELETE the rows replaced, INSERT the rest.
  };
  Upsert upsert = Upsert::kOnConflict;

  // How the point-in-time join finds each entity row's latest tick at or before its ts.
  enum class LatestTick {
    kCorrelated,   // A correlated max() per row: one index seek each.
    kGroupedJoin,  // A join grouped by row, for engines that refuse correlated subqueries.
  };
  LatestTick latest_tick = LatestTick::kCorrelated;

  // How the feature query finds the k-th largest value of a ranked aggregate.
  enum class KthLargest {
    kRowNumber,   // ROW_NUMBER() OVER (ORDER BY v DESC): one sort.
    kCountAbove,  // The least value with at most k − 1 values above it, for engines without
                  // window functions (Spanner's emulator); quadratic in the stations.
  };
  KthLargest kth_largest = KthLargest::kRowNumber;
};

}  // namespace bikestream
