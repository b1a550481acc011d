// The warehouse engines a test binary runs its backend-independent suites on (the warehouse
// contract, the batch features): each binary links one definition of BackendsUnderTest, so
// the same tests run on SQLite in the unit binaries and on a real PostgreSQL server in the
// postgres binary.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "support/pubsub_emulator_process.h"
#include "warehouse/warehouse.h"

namespace bikestream::testing_support {

struct WarehouseBackend {
  std::string name;                                  // In test names: "Sqlite", "Postgres".
  std::function<std::string()> unavailable;          // Why it cannot run here; empty if it can.
  std::function<std::unique_ptr<Warehouse>()> open;  // A fresh, empty warehouse (no tables yet).
  bool live = false;  // A cloud service, which CI has no account for: skipped there too.
};

std::vector<WarehouseBackend> BackendsUnderTest();

inline void PrintTo(const WarehouseBackend& backend, std::ostream* out) { *out << backend.name; }

inline std::string BackendName(const ::testing::TestParamInfo<WarehouseBackend>& info) {
  return info.param.name;
}

// At the top of a parameterized SetUp: skips (or fails in CI, but for a live service) when the
// backend cannot run here.
#define REQUIRE_BACKEND(backend)                                                    \
  do {                                                                              \
    if (const std::string why_ = (backend).unavailable(); !why_.empty()) {          \
      if (::bikestream::testing_support::InCi() && !(backend).live) FAIL() << why_; \
      GTEST_SKIP() << "skipped: " << why_;                                          \
    }                                                                               \
  } while (0)

// A suite run on each backend: every test starts with a fresh warehouse, tables made.
class BackendTest : public ::testing::TestWithParam<WarehouseBackend> {
 protected:
  void SetUp() override {
    REQUIRE_BACKEND(GetParam());
    warehouse_ = GetParam().open();
    ASSERT_TRUE(warehouse_);
    const absl::Status setup = warehouse_->Setup();
    ASSERT_TRUE(setup.ok()) << setup;
  }

  std::unique_ptr<Warehouse> warehouse_;
};

}  // namespace bikestream::testing_support
