// The backend-independent suites on the BigQuery warehouse, against the tests' stand-in
// (support/bigquery_stand_in.h) running the statements on SQLite (support/bigquery_sqlite.h):
// one stand-in for the binary, a new dataset for each warehouse opened, as one would on a
// real project. BigQuery itself is warehouse/bigquery_live_test.cc's.
#include <fmt/format.h>

#include <atomic>

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
  return {{"BigQueryStandIn", [] { return std::string(); },
           []() -> std::unique_ptr<Warehouse> {
             static std::atomic<int> datasets{0};
             BigQueryWarehouseOptions options{.dataset = "contract_" + std::to_string(++datasets)};
             options.client.endpoint = SharedBigQueryStandIn().url();
             options.client.project = "test-project";
             // A merge for each commit at once: the suites commit one batch at a time.
             options.commit.governor = {.max_commit_delay = 0, .load_job_spacing = 0};
             options.commit.poll = 10 * kMicrosPerMilli;
             auto opened = OpenBigQueryWarehouse(std::move(options), TableNames{});
             return opened.ok() ? std::move(*opened) : nullptr;
           }}};
}

}  // namespace bikestream::testing_support
