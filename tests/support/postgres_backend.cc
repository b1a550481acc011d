#include <cctype>

#include "support/postgres_server.h"
#include "support/warehouse_backends.h"

namespace bikestream::testing_support {

// A database per test, named after it, on the binary's shared server.
std::unique_ptr<Warehouse> OpenFreshPostgresDatabase() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "t_";
  for (char c : std::string(test->test_suite_name()) + "_" + test->name()) {
    if (name.size() < 60)
      name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_');
  }
  auto opened = OpenWarehouse(SharedPostgres().CreateDatabase(name));
  EXPECT_TRUE(opened.ok()) << opened.status();
  return opened.ok() ? std::move(*opened) : nullptr;
}

std::vector<WarehouseBackend> BackendsUnderTest() {
  return {{"Postgres",
           [] { return SharedPostgres().ready() ? std::string() : SharedPostgres().error(); },
           OpenFreshPostgresDatabase}};
}

}  // namespace bikestream::testing_support
