// The backend-independent suites (the warehouse contract, batch features, parity with SQLite)
// against BigQuery itself, when BIKESTREAM_TEST_GCP_PROJECT names a project and Application
// Default Credentials are set: each test makes a dataset bikestream_test_PID_N there, left
// behind for the project's owner to delete. Otherwise the binary says so in one line and
// ctest counts it skipped.
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

const char* Project() {
  const char* project = std::getenv("BIKESTREAM_TEST_GCP_PROJECT");
  return project && *project ? project : nullptr;
}

}  // namespace

std::vector<WarehouseBackend> BackendsUnderTest() {
  if (!Project()) return {};
  return {{"BigQueryLive", [] { return std::string(); },
           []() -> std::unique_ptr<Warehouse> {
             static std::atomic<int> datasets{0};
             auto opened =
                 OpenWarehouse(fmt::format("bigquery://{}/bikestream_test_{}_{}?max_commit_delay=0",
                                           Project(), getpid(), ++datasets));
             EXPECT_TRUE(opened.ok()) << opened.status();
             return opened.ok() ? std::move(*opened) : nullptr;
           },
           /*live=*/true}};
}

}  // namespace bikestream::testing_support

int main(int argc, char** argv) {
  if (!bikestream::testing_support::Project()) {
    std::cout << "[  SKIPPED ] bigquery_live_test: set BIKESTREAM_TEST_GCP_PROJECT (and "
                 "credentials) to run the "
                 "warehouse suites against BigQuery\n";
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
