// The warehouse: where events land exactly once, bad input is kept, and features are stored.
//
// A `Warehouse` plays every role of roles.h on one store; callers take the role they use.
// `OpenWarehouse` opens one from a URL (`sqlite:PATH`, `postgresql://…`); each engine is a
// folder beside this file, registered by one line in warehouse.cc. A Warehouse is used from one
// thread at a time; open one per thread that needs its own connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "warehouse/roles.h"

namespace bikestream {

// What one statement cost, where the engine says (BigQuery: the bytes a job processed and
// billed).
struct StatementCost {
  std::string_view statement;  // What it was for: "commit", "features", "query", ...
  std::int64_t bytes_processed = 0;
  std::int64_t bytes_billed = 0;
};
using CostObserver = std::function<void(const StatementCost&)>;

class Warehouse : public EventSink,
                  public DeadLetterStore,
                  public FeatureStore,
                  public EventHistory,
                  public SqlConsole,
                  public StationDirectory,
                  public ActivityReader {
 public:
  // Creates the tables and indexes if they are missing. Idempotent.
  virtual absl::Status Setup() = 0;

  // From now on calls `observer` after each statement whose cost the engine reports (on the
  // thread that runs it). Engines that report none ignore it.
  virtual void ObserveCosts(CostObserver) {}
};

// The table names; defaults as in docs/design.md, overridable from the environment by the CLI.
struct TableNames {
  std::string raw_events = "raw_events";              // Default: raw_events.
  std::string station_features = "station_features";  // Default: station_features.
  std::string dead_letter = "dead_letter";            // Default: dead_letter.
  std::string stations = "stations";                  // Default: stations.
};

enum class OpenMode {
  kCreateIfMissing,  // For commands that write: setup, ingest, run.
  kMustExist,        // For commands that only look: a missing store is an error, not a new file.
};

// Opens the warehouse at `url`: `sqlite:PATH` (`sqlite::memory:` for a private in-memory one),
// `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (or `postgres://`; libpq's PG* environment
// fills in what it leaves out; the database must exist), or
// `bigquery://PROJECT/DATASET[?location=LOCATION][&endpoint=URL]`.
// kInvalidArgument names the accepted forms for a URL it does not know; kUnavailable says why
// the store could not be opened; kNotFound, under kMustExist, that there is none yet (and, for
// PostgreSQL, that the database is missing); kUnauthenticated that the server refused the login.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouse(
    std::string_view url, const TableNames& tables = {},
    OpenMode mode = OpenMode::kCreateIfMissing);

}  // namespace bikestream
