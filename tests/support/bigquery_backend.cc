// The backend-independent suites on the BigQuery warehouse, against the tests' stand-in
// (support/bigquery_stand_in.h) running the statements on SQLite (support/bigquery_sqlite.h):
// one stand-in for the binary, a new dataset for each warehouse opened, as one would on a
// real project. And against BigQuery itself when BIKESTREAM_TEST_GCP_PROJECT names a project
// (with Application Default Credentials): each test makes a dataset bikestream_test_PID_N
// there, left behind for the project's owner to delete.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "support/bigquery_sqlite.h"
#include "support/bigquery_stand_in.h"
#include "support/warehouse_backends.h"
#include "warehouse/bigquery/bigquery_warehouse.h"

namespace bikestream::testing_support {

BigQueryStandIn& SharedBigQueryStandIn() {
  static BigQueryStandIn stand_in({}, std::make_unique<BigQuerySqliteEngine>());
  return stand_in;
}

std::vector<WarehouseBackend> BackendsUnderTest() {
  return {{"BigQueryStandIn", [] { return std::string(); }, []() -> std::unique_ptr<Warehouse> {
             static std::atomic<int> datasets{0};
             BigQueryWarehouseOptions options{.dataset = "contract_" + std::to_string(++datasets)};
             options.client.endpoint = SharedBigQueryStandIn().url();
             options.client.project = "test-project";
             auto opened = OpenBigQueryWarehouse(std::move(options), TableNames{});
             return opened.ok() ? std::move(*opened) : nullptr;
           }},
          {"BigQueryLive",
           [] {
             const char* project = std::getenv("BIKESTREAM_TEST_GCP_PROJECT");
             return std::string(project && *project ? ""
                                                    : "set BIKESTREAM_TEST_GCP_PROJECT (and credentials) to run "
                                                      "the warehouse contract against BigQuery");
           },
           []() -> std::unique_ptr<Warehouse> {
             static std::atomic<int> datasets{0};
             auto opened = OpenWarehouse(fmt::format("bigquery://{}/bikestream_test_{}_{}",
                                                     std::getenv("BIKESTREAM_TEST_GCP_PROJECT"), getpid(),
                                                     ++datasets));
             EXPECT_TRUE(opened.ok()) << opened.status();
             return opened.ok() ? std::move(*opened) : nullptr;
           },
           /*live=*/true}};
}

}  // namespace bikestream::testing_support
