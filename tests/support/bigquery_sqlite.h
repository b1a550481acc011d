// Runs the GoogleSQL statements the BigQuery warehouse emits on SQLite, one in-memory database
// per dataset, for the stand-in (support/bigquery_stand_in.h). The translation is limited to
// those statements, on purpose:
// - UNNEST(@p) [AS a] [WITH OFFSET AS pos] reads a temporary table of the parameter's rows
//   (column pos, then the struct's fields, or `value`); `x IN UNNEST(@p)` likewise;
// - other @p become literals; TIMESTAMP values are integer microseconds, as stored;
// - MOD and UNIX_MICROS are functions of the database, as GoogleSQL defines them;
// - BEGIN/COMMIT TRANSACTION, CREATE TEMP TABLE, INSERT ... SELECT, window functions and
//   backquoted names are SQLite's too, and run as they are.
// Errors come back as BigQuery's: notFound for a missing dataset or table, invalidQuery for
// the rest, with SQLite's message. Each job's bytes are what BigQuery would bill its statements
// (support/bigquery_billing.h).
#pragma once

#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/bigquery_billing.h"
#include "support/bigquery_stand_in.h"

namespace bikestream::testing_support {

class BigQuerySqliteEngine final : public BigQueryStandIn::Engine {
 public:
  explicit BigQuerySqliteEngine(std::string project = "test-project")
      : project_(std::move(project)) {}

  BigQueryStandIn::Outcome Run(const nlohmann::json& query) override;
  // Each line a JSON object of the table's fields (TIMESTAMP as BigQuery reads it in JSON:
  // "YYYY-MM-DD HH:MM:SS[.ffffff]+00", as the warehouse writes it, or RFC 3339); all rows or
  // none.
  BigQueryStandIn::Outcome Load(const std::string& dataset, const nlohmann::json& table,
                                const std::string& ndjson) override;
  BigQueryStandIn::Outcome ReadTable(const std::string& dataset, const std::string& table,
                                     const std::vector<std::string>& fields) override;
  void TableDeleted(const std::string& dataset, const std::string& table) override;
  void DatasetCreated(const std::string& dataset) override;
  void TableCreated(const std::string& dataset, const nlohmann::json& table) override;

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  BigQueryStandIn::Outcome RunScript(sqlite3* db, const std::string& dataset,
                                     const nlohmann::json& query);

  std::string project_;
  std::map<std::string, std::unique_ptr<sqlite3, Close>> datasets_;
  std::map<std::string, BigQueryBilling> billing_;  // By dataset.
};

}  // namespace bikestream::testing_support
