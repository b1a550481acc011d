// The BigQuery warehouse: bigquery://PROJECT/DATASET over BigQuery's REST API v2. Each commit
// stages its batch by a load job, and one merge at a time takes every staged batch into
// raw_events in one transaction (docs/adr/0007).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "warehouse/bigquery/client.h"
#include "warehouse/bigquery/merge_committer.h"
#include "warehouse/warehouse.h"

namespace bikestream {

struct BigQueryWarehouseOptions {
  bigquery::ClientOptions client;  // project, location, endpoint, credentials.
  std::string dataset;
  bigquery::MergeCommitterOptions commit;  // When merges run; how long a batch waits.
  // Each batch one transaction of its own instead (the design before issue 36, which
  // bench/bigquery_bench measures the merges against): a commit in seconds, but billed 40 MB
  // or more each, and cancelled when another worker's runs. Default: false.
  bool transaction_per_batch = false;
};

// Opens bigquery://PROJECT/DATASET[?location=LOCATION][&endpoint=URL][&max_commit_delay=S]
// (location default US; endpoint default $BIGQUERY_ENDPOINT, then Google's; the longest a
// batch waits for its merge, in seconds, default 90) with Google's Application Default
// Credentials from the environment. Each job's bytes go to Warehouse::ObserveCosts.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenBigQueryWarehouse(std::string_view url,
                                                                 const TableNames& tables,
                                                                 OpenMode mode);

// The same with every collaborator given.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenBigQueryWarehouse(BigQueryWarehouseOptions options,
                                                                 const TableNames& tables);

}  // namespace bikestream
