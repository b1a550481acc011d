// `--warehouse URL` and the table names from the environment.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "warehouse/warehouse.h"

namespace bikestream::cli {

inline constexpr const char* kDefaultWarehouse = "sqlite:bikestream.db";

// Adds `--warehouse URL`; the value falls back to $BIKESTREAM_WAREHOUSE, then the default.
void AddWarehouseOption(CLI::App* command, std::string* url);

// Opens the warehouse named by the flag or the environment, with table names from
// $RAW_EVENT_TABLE, $FEATURE_EVENT_TABLE and $DEAD_LETTER_TABLE (the last dotted part, so the
// seed's `project.dataset.table` form works).
absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouseFromFlags(
    const std::string& url, OpenMode mode = OpenMode::kCreateIfMissing);

}  // namespace bikestream::cli
