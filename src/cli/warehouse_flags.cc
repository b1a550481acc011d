#include "cli/warehouse_flags.h"

#include <cstdlib>

namespace bikestream::cli {
namespace {

std::string TableFromEnv(const char* variable, std::string fallback) {
  const char* value = std::getenv(variable);
  if (!value || !*value) return fallback;
  std::string_view name(value);
  if (auto dot = name.rfind('.'); dot != std::string_view::npos) name.remove_prefix(dot + 1);
  return std::string(name);
}

}  // namespace

void AddWarehouseOption(CLI::App* command, std::string* url) {
  command->add_option("--warehouse", *url,
                      "Where the tables live: sqlite:PATH, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB "
                      "(what the URL leaves out comes from PGHOST, PGPORT, PGUSER, PGPASSWORD, "
                      "~/.pgpass). Falls back to $BIKESTREAM_WAREHOUSE.")
      ->envname("BIKESTREAM_WAREHOUSE")
      ->default_val(kDefaultWarehouse);
}

absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouseFromFlags(const std::string& url,
                                                                  OpenMode mode) {
  TableNames tables;
  tables.raw_events = TableFromEnv("RAW_EVENT_TABLE", tables.raw_events);
  tables.station_features = TableFromEnv("FEATURE_EVENT_TABLE", tables.station_features);
  tables.dead_letter = TableFromEnv("DEAD_LETTER_TABLE", tables.dead_letter);
  return OpenWarehouse(url, tables, mode);
}

}  // namespace bikestream::cli
