// `--warehouse URL` and what goes with it: BigQuery's location and endpoint, --verbose, and
// the table names from the environment.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/redact.h"
#include "warehouse/warehouse.h"

namespace bikestream::cli {

inline constexpr const char* kDefaultWarehouse = "sqlite:bikestream.db";

struct WarehouseFlags {
  std::string url;                // --warehouse, as given; see ResolveWarehouseUrl.
  std::string location;           // --location, for bigquery://: the URL's ?location=.
  std::string bigquery_endpoint;  // --bigquery-endpoint; $BIGQUERY_ENDPOINT otherwise.
  std::string spanner_endpoint;   // --spanner-endpoint; $SPANNER_ENDPOINT otherwise.
  bool verbose = false;           // --verbose: each statement's cost to stderr.
  std::string max_commit_delay;   // --max-commit-delay, for bigquery://: ?max_commit_delay=.
};

// Adds --warehouse, --location, --bigquery-endpoint, --spanner-endpoint and --verbose.
void AddWarehouseOptions(CLI::App* command, WarehouseFlags* flags);

// Adds --max-commit-delay, for the commands that commit events.
void AddCommitDelayOption(CLI::App* command, WarehouseFlags* flags);

// The warehouse's URL: --warehouse, else $BIKESTREAM_WAREHOUSE, else the BigQuery dataset of
// the notes' $RAW_EVENT_TABLE (project.dataset.table), else sqlite:bikestream.db; with
// --location, --bigquery-endpoint and --max-commit-delay (or --spanner-endpoint) as its
// parameters.
absl::StatusOr<std::string> ResolveWarehouseUrl(const WarehouseFlags& flags);

// The resolved URL as safe to print (a password masked).
inline std::string WarehouseUrlForPeople(const WarehouseFlags& flags) {
  return RedactUrl(ResolveWarehouseUrl(flags).value_or(flags.url));
}

// The resolved URL as one string per store, safe to print: a SQLite file's path made absolute,
// so that jobs started in different directories name one file alike. What the job registry
// records, and the console tells its warehouse's jobs by.
std::string WarehouseUrlOfStore(const WarehouseFlags& flags);

// Opens the warehouse at ResolveWarehouseUrl, with table names from $RAW_EVENT_TABLE,
// $FEATURE_EVENT_TABLE, $DEAD_LETTER_TABLE and $STATION_TABLE (their last dotted part). With
// --verbose, each statement's cost is logged to stderr (BigQuery's bytes processed and billed).
absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouseFromFlags(
    const WarehouseFlags& flags, OpenMode mode = OpenMode::kCreateIfMissing);

// OpenWarehouseFromFlags, then Setup(): a warehouse ready to write, its tables created where
// missing (what every command that writes does first).
absl::StatusOr<std::unique_ptr<Warehouse>> OpenSetUpWarehouse(const WarehouseFlags& flags);

// What --verbose logs, and then `also` (e.g. a job's metrics), for Warehouse::ObserveCosts.
CostObserver CostReporter(const WarehouseFlags& flags, CostObserver also = {});

}  // namespace bikestream::cli
