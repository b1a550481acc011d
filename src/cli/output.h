// Printing query results and job summaries for people (a boxed table, as `bq query` prints)
// and for programs (CSV, JSON).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/ingestor.h"
#include "warehouse/warehouse.h"

namespace bikestream {

enum class TableFormat { kTable, kCsv, kJson };

absl::StatusOr<TableFormat> ParseTableFormat(std::string_view name);

// Cells longer than `max_cell_chars` are cut with "…" in the boxed table (0 = never);
// CSV and JSON always carry the whole value.
void PrintResult(std::FILE* out, const QueryResult& result, TableFormat format,
                 std::size_t max_cell_chars = 0);

// The final summary of ingest and run: one JSON object with exactly these keys.
std::string SummaryJson(const IngestStats& stats, double seconds);

// One human line: "received 1000, stored 990, duplicates 5, dead-lettered 5 in 0.2 s (5000 ev/s)".
std::string SummaryLine(const IngestStats& stats, double seconds);

}  // namespace bikestream
