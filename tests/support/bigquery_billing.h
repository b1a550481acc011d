// What BigQuery would bill a statement on demand, by its published rules, computed on the
// stand-in's SQLite copy of the tables (support/bigquery_sqlite.h), so that tests and
// bench/bigquery_bench can compare the bytes two write designs are billed.
//
// The rules (BigQuery's "On-demand query size calculation" and its pricing page):
// - a statement is billed the bytes of the columns it references in the tables it scans, over
//   the partitions it scans: a column of a day-partitioned table is read only in the days its
//   statement's constant filter on the partitioning column leaves (`P BETWEEN a AND b`,
//   `P >= a`, `P < b`...); any other filter scans every day;
// - UPDATE, DELETE and MERGE add the bytes of every column of the table they modify, as it is
//   when they start (here: of its scanned partitions); INSERT does not scan its target;
// - each table referenced is billed at least 10 MB, rounded up to the next MB; a statement
//   that references no table is free;
// - sizes: STRING 2 bytes plus its UTF-8 length, INT64, FLOAT64 and TIMESTAMP 8, BOOL 1, NULL 0.
// A script's temporary tables are tables too. This is our reading of the published rules, not
// BigQuery's own accounting: docs/bigquery.md says what was never measured live.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bikestream::testing_support {

inline constexpr std::int64_t kMegabyte = 1024 * 1024;
inline constexpr std::int64_t kMinimumBilledPerTable = 10 * kMegabyte;

struct StatementBytes {
  std::int64_t processed = 0;  // The bytes read, as the rules count them.
  std::int64_t billed = 0;     // With each table's minimum, rounded up to MB.
};

class BigQueryBilling {
 public:
  // A table as tables.insert created it (its schema and timePartitioning).
  void TableCreated(const nlohmann::json& table);
  void TableDeleted(const std::string& table) { tables_.erase(table); }

  // The bytes of `statement` (as SQLite runs it: parameters already literals, timestamps in
  // microseconds), run on `db` as it is now.
  StatementBytes Bill(sqlite3* db, const std::string& statement) const;

 private:
  struct Column {
    std::string name;
    std::string type;  // STRING, INT64, ...
  };
  struct Table {
    std::vector<Column> columns;
    std::string partitioned_by;  // A DAY-partitioning column, or "".
  };

  // The table `name` as known, or a temporary table of the script read from `db`.
  Table Describe(sqlite3* db, const std::string& name) const;
  std::int64_t ColumnBytes(sqlite3* db, const std::string& table,
                           const std::vector<Column>& columns, const std::string& where) const;

  std::map<std::string, Table> tables_;
};

}  // namespace bikestream::testing_support
