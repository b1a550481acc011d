// The scale-out warehouse: a PostgreSQL server shared by any number of workers. raw_events is
// partitioned by month of event time, and a ledger of event ids keeps dedup global across the
// partitions (docs/adr/0005-postgres-partitions-and-dedup.md). Batches go in with COPY, or
// through a session-private staging table and insert-if-absent, one transaction per batch. A
// lost connection is re-opened with backoff and the operation retried, for as long as
// `retry_for`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "warehouse/warehouse.h"

namespace bikestream {

struct PostgresOptions {
  // How long an operation keeps retrying through a lost connection or a server restart before
  // it returns kUnavailable. Default: 60 s.
  DurationMicros retry_for = 60 * kMicrosPerSecond;
  Clock* clock = nullptr;  // Waits between retries. Default: the system clock.
};

// Connects to the server at `url` (postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, with
// libpq's environment filling in what it leaves out). The database must exist, whatever `mode`.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(std::string_view url,
                                                                 const TableNames& tables,
                                                                 OpenMode mode);
absl::StatusOr<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(const std::string& url,
                                                                 const TableNames& tables,
                                                                 PostgresOptions options);

}  // namespace bikestream
