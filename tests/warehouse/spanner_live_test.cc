// The backend-independent suites (the warehouse contract, batch features, parity with SQLite)
// against Cloud Spanner itself, when BIKESTREAM_TEST_SPANNER_INSTANCE names an instance
// (PROJECT/INSTANCE, which costs money while it exists: a person creates it) and Application
// Default Credentials are set: each test makes a database bt_PID_N there, left behind for the
// instance's owner to delete. Otherwise the binary says so in one line and ctest counts it
// skipped.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>

#include "support/warehouse_backends.h"
#include "warehouse/warehouse.h"

namespace bikestream::testing_support {
namespace {

const char* Instance() {
  const char* instance = std::getenv("BIKESTREAM_TEST_SPANNER_INSTANCE");
  return instance && *instance ? instance : nullptr;
}

}  // namespace

std::vector<WarehouseBackend> BackendsUnderTest() {
  if (!Instance()) return {};
  return {{"SpannerLive", [] { return std::string(); },
           []() -> std::unique_ptr<Warehouse> {
             static std::atomic<int> databases{0};
             auto opened = OpenWarehouse(
                 fmt::format("spanner://{}/bt_{}_{}", Instance(), getpid(), ++databases));
             EXPECT_TRUE(opened.ok()) << opened.status();
             return opened.ok() ? std::move(*opened) : nullptr;
           },
           /*live=*/true}};
}

}  // namespace bikestream::testing_support

int main(int argc, char** argv) {
  if (!bikestream::testing_support::Instance()) {
    std::cout << "[  SKIPPED ] spanner_live_test: set BIKESTREAM_TEST_SPANNER_INSTANCE=PROJECT/"
                 "INSTANCE (and credentials) to run the warehouse suites against Cloud Spanner\n";
    return 0;
  }
  if (std::getenv("SPANNER_EMULATOR_HOST")) {
    std::cout << "spanner_live_test: unset SPANNER_EMULATOR_HOST: this suite is for Cloud "
                 "Spanner itself\n";
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
