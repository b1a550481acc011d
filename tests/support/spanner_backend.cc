// The backend-independent suites on the Spanner warehouse, against Google's Spanner emulator
// started once for the binary: a new database for each warehouse opened, through the URL and
// SPANNER_EMULATOR_HOST as a user would.
#include <cstdlib>

#include "support/spanner_emulator.h"
#include "support/warehouse_backends.h"

namespace bikestream::testing_support {

std::vector<WarehouseBackend> BackendsUnderTest() {
  return {{"Spanner",
           [] {
             return SharedSpannerEmulator().ready() ? std::string()
                                                    : SharedSpannerEmulator().error();
           },
           []() -> std::unique_ptr<Warehouse> {
             SpannerEmulator& emulator = SharedSpannerEmulator();
             setenv("SPANNER_EMULATOR_HOST", emulator.host().c_str(), 1);
             const spanner::ClientOptions database = emulator.FreshDatabase();
             auto opened = OpenWarehouse(fmt::format("spanner://{}/{}/{}", database.project,
                                                     database.instance, database.database));
             EXPECT_TRUE(opened.ok()) << opened.status();
             return opened.ok() ? std::move(*opened) : nullptr;
           }}};
}

}  // namespace bikestream::testing_support
