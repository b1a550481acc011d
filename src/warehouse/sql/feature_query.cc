#include "warehouse/sql/feature_query.h"

#include <fmt/format.h>

#include <cstdint>

#include "features/aggregates.h"

namespace bikestream {
namespace {

// The WHERE clause of feature `f`: its window at as_of and its kind.
std::string Filter(const FeatureSpec& f, const SqlDialect& d) {
  std::string where = fmt::format("ts_iso <= {}", d.instant(1));
  if (f.window) where += fmt::format(" AND ts_iso > {}", d.minus(d.instant(1), *f.window));
  if (f.kind) where += fmt::format(" AND kind = '{}'", KindName(*f.kind));
  return where;
}

// The aggregate's value over the window's events (features/aggregates.h), in this dialect.
std::string Value(const FeatureSpec& f, const SqlDialect& d) {
  return fmt::format(fmt::runtime(AggregateOf(f.aggregate).sql), fmt::arg("real", d.real));
}

// Per station with any event in the window: the aggregate.
std::string PerStation(const FeatureSpec& f, const std::string& raw, const SqlDialect& d) {
  return fmt::format("SELECT station_id, {} AS v FROM {} WHERE {} GROUP BY station_id", Value(f, d),
                     raw, Filter(f, d));
}

// Every known station, 0 where the window holds nothing.
std::string EveryStation(const FeatureSpec& f, const std::string& raw, const SqlDialect& d) {
  return fmt::format(
      "SELECT k.station_id, coalesce(a.v, 0) AS v FROM known k LEFT JOIN ({}) a "
      "ON a.station_id = k.station_id",
      PerStation(f, raw, d));
}

// The k-th largest v of f{i}_counts, k = `offset` + 1 (an expression over `known`, never more
// than its stations): with ties, the value at place k in descending order.
std::string KthLargest(std::size_t i, const std::string& offset, const SqlDialect& d) {
  if (d.kth_largest == SqlDialect::KthLargest::kRowNumber) {
    return fmt::format(
        "SELECT v FROM (SELECT v, ROW_NUMBER() OVER (ORDER BY v DESC) AS place FROM f{0}_counts) "
        "ranked WHERE place = (SELECT {1} FROM known) + 1",
        i, offset);
  }
  // The tie group holding place k is the least value whose group starts at or before k. (Its
  // NULL, where there are no values, compares as the missing row does: never true.)
  return fmt::format(
      "SELECT min(c.v) AS v FROM f{0}_counts c WHERE (SELECT count(*) FROM f{0}_counts d "
      "WHERE d.v > c.v) <= (SELECT {1} FROM known)",
      i, offset);
}

}  // namespace

std::string FeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw,
                         const SqlDialect& d) {
  std::string with = fmt::format("known AS (SELECT DISTINCT station_id FROM {} WHERE ts_iso <= {})",
                                 raw, d.instant(1));
  std::vector<std::string> selects;
  for (std::size_t i = 0; i < features.size(); ++i) {
    const FeatureSpec& f = features[i];
    const std::string label =
        fmt::format("'{}' AS feature_name, '{}' AS window_len", f.name, f.window_len);
    const AggregateInfo& aggregate = AggregateOf(f.aggregate);
    if (aggregate.ranked) {
      // The k-th largest value, k = ceil(share × stations) (see TopShareRank). By row number,
      // not OFFSET: BigQuery takes only a constant there.
      const std::string x =
          fmt::format("(CAST({} AS {}) * count(*) - {})", f.share, d.real, kTopShareRankTolerance);
      with += fmt::format(", f{0}_counts AS ({1}), f{0}_kth AS ({2})", i, EveryStation(f, raw, d),
                          KthLargest(i, d.rank_offset(x), d));
      selects.push_back(fmt::format(
          "SELECT station_id, {1}, CAST(CASE WHEN v > 0 AND v >= (SELECT v FROM f{0}_kth) "
          "THEN 1 ELSE 0 END AS {2}) AS value FROM f{0}_counts",
          i, label, d.real));
    } else {
      selects.push_back(fmt::format(
          "SELECT station_id, {}, CAST(v AS {}) AS value FROM ({}) f{}", label, d.real,
          aggregate.every_station ? EveryStation(f, raw, d) : PerStation(f, raw, d), i));
    }
  }
  std::string query = "WITH " + with + " ";
  for (std::size_t i = 0; i < selects.size(); ++i) query += (i ? " UNION ALL " : "") + selects[i];
  return query;
}

}  // namespace bikestream
