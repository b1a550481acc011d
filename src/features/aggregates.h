// The feature aggregates, one line each in kAggregates (aggregates.cc): what a feature file
// calls it, which stations get a row, its value in SQL and from a station's totals. The feature
// file's parser and its errors, the SQL feature query (warehouse/sql/feature_query.cc), the
// streaming engine (streaming_features.cc) and a test of docs/features.md read this table.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "features/feature_rows.h"
#include "features/feature_spec.h"

namespace bikestream {

struct AggregateInfo {
  Aggregate aggregate;
  std::string_view name;  // As a feature file writes it.
  // Every station known up to as_of gets a row (0 over an empty window); otherwise only the
  // stations with events in the window.
  bool every_station;
  // The value over one station's events in the window, as SQL over raw_events' `delta`;
  // `{real}` is the dialect's floating-point type.
  std::string_view sql;
  // The same value from the station's totals of those events (the streaming engine).
  double (*from_totals)(const KindTotals& totals);
  // top_share: the row's value is 1.0 when the value above reaches the k-th largest among the
  // known stations (k = TopShareRank) and is > 0, else 0.0.
  bool ranked = false;
};

// Every aggregate, in the order a feature file's error lists them.
std::span<const AggregateInfo> Aggregates();

// The line of `aggregate`.
const AggregateInfo& AggregateOf(Aggregate aggregate);

// "count, sum, avg, min, max or top_share": the names, for an error.
std::string AggregateNames();

}  // namespace bikestream
