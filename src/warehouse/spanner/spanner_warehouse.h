// The Spanner warehouse: spanner://PROJECT/INSTANCE/DATABASE over Cloud Spanner's REST API v1.
// Each batch is one read-write transaction that reads which events are stored and inserts the
// rest (docs/adr/0010).
#pragma once

#include <memory>
#include <string_view>

#include "warehouse/warehouse.h"

namespace bikestream {

// Opens spanner://PROJECT/INSTANCE/DATABASE[?endpoint=URL]. With $SPANNER_EMULATOR_HOST
// (HOST:PORT of the emulator's REST port, its --rest-port) it speaks plain HTTP to the emulator
// without credentials, as Google's clients do; otherwise it goes to the endpoint (default
// $SPANNER_ENDPOINT, then Google's) with Application Default Credentials.
absl::StatusOr<std::unique_ptr<Warehouse>> OpenSpannerWarehouse(std::string_view url,
                                                                const TableNames& tables,
                                                                OpenMode mode);

}  // namespace bikestream
