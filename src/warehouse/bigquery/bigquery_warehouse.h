// The BigQuery warehouse: bigquery://PROJECT/DATASET over BigQuery's REST API v2. Each commit
// is one multi-statement transaction run as a query job (docs/adr/0007).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "warehouse/bigquery/client.h"
#include "warehouse/warehouse.h"

namespace bikestream {

struct BigQueryWarehouseOptions {
  bigquery::ClientOptions client;  // project, location, endpoint, credentials.
  std::string dataset;
};

// Opens bigquery://PROJECT/DATASET[?location=LOCATION][&endpoint=URL] (location default US;
// endpoint default $BIGQUERY_ENDPOINT, then Google's) with Google's Application Default
// Credentials from the environment. Each job's bytes go to Warehouse::ObserveCosts.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenBigQueryWarehouse(std::string_view url,
                                                                 const TableNames& tables,
                                                                 OpenMode mode);

// The same with every collaborator given.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenBigQueryWarehouse(BigQueryWarehouseOptions options,
                                                                 const TableNames& tables);

}  // namespace bikestream
