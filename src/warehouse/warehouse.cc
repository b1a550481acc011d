#include "warehouse/warehouse.h"

#include <fmt/format.h>

#include "absl/status/status.h"
#include "common/redact.h"
#include "warehouse/bigquery/bigquery_warehouse.h"
#include "warehouse/postgres/postgres_warehouse.h"
#include "warehouse/spanner/spanner_warehouse.h"
#include "warehouse/sqlite/sqlite_warehouse.h"

namespace bikestream {
namespace {

using Opener = absl::StatusOr<std::unique_ptr<Warehouse>> (*)(std::string_view url,
                                                              const TableNames& tables,
                                                              OpenMode mode);

struct Engine {
  std::string_view scheme;  // The start of the URLs it opens.
  std::string_view form;    // How the URL is written, for the error on an unknown one.
  Opener open;
};

// The engines, one line each.
constexpr Engine kEngines[] = {
    {"sqlite:", "sqlite:PATH (e.g. sqlite:bikestream.db)", OpenSqliteWarehouse},
    {"postgresql://", "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE", OpenPostgresWarehouse},
    {"postgres://", "", OpenPostgresWarehouse},
    {"bigquery://", "bigquery://PROJECT/DATASET[?location=LOCATION]", OpenBigQueryWarehouse},
    {"spanner://", "spanner://PROJECT/INSTANCE/DATABASE", OpenSpannerWarehouse},
};

}  // namespace

absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouse(std::string_view url,
                                                         const TableNames& tables, OpenMode mode) {
  std::string forms;
  for (const Engine& engine : kEngines) {
    if (url.starts_with(engine.scheme) && url.size() > engine.scheme.size()) {
      return engine.open(url, tables, mode);
    }
    if (!engine.form.empty())
      forms += fmt::format("{}{}", forms.empty() ? "" : " or ", engine.form);
  }
  return absl::InvalidArgumentError(
      fmt::format("unknown warehouse URL '{}': use {}", RedactUrl(url), forms));
}

}  // namespace bikestream
