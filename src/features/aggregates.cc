#include "features/aggregates.h"

#include <cstdlib>

namespace bikestream {
namespace {

double Count(const KindTotals& t) { return double(t.count); }
double Sum(const KindTotals& t) { return double(t.sum); }
double Mean(const KindTotals& t) { return double(t.sum) / double(t.count); }
double Min(const KindTotals& t) { return double(t.min); }
double Max(const KindTotals& t) { return double(t.max); }

// The mean is written as sum / count so that every engine does the same double division.
constexpr AggregateInfo kAggregates[] = {
    // aggregate, name, every_station, sql, from_totals, ranked
    {Aggregate::kCount, "count", true, "count(*)", Count},
    {Aggregate::kSum, "sum", true, "sum(delta)", Sum},
    {Aggregate::kAvg, "avg", false, "CAST(sum(delta) AS {real}) / count(*)", Mean},
    {Aggregate::kMin, "min", false, "min(delta)", Min},
    {Aggregate::kMax, "max", false, "max(delta)", Max},
    {Aggregate::kTopShare, "top_share", true, "count(*)", Count, /*ranked=*/true},
};

}  // namespace

std::span<const AggregateInfo> Aggregates() { return kAggregates; }

const AggregateInfo& AggregateOf(Aggregate aggregate) {
  for (const AggregateInfo& info : kAggregates) {
    if (info.aggregate == aggregate) return info;
  }
  std::abort();  // Every Aggregate has its line.
}

std::string AggregateNames() {
  std::string names;
  const std::size_t n = std::size(kAggregates);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) names += i + 1 == n ? " or " : ", ";
    names += kAggregates[i].name;
  }
  return names;
}

}  // namespace bikestream
