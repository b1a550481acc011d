#include "support/warehouse_backends.h"

namespace bikestream::testing_support {

std::vector<WarehouseBackend> BackendsUnderTest() {
  return {{"Sqlite", [] { return std::string(); },
           [] { return std::move(*OpenWarehouse("sqlite::memory:")); }}};
}

}  // namespace bikestream::testing_support
