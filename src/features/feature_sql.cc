#include "features/feature_sql.h"

#include <fmt/format.h>

#include <cmath>

namespace bikestream {
namespace {

constexpr double kRankTolerance = 1e-9;

// The WHERE clause of feature `f`: its window at ?1 and its kind.
std::string Filter(const FeatureSpec& f) {
  std::string where = "ts_iso <= ?1";
  if (f.window) where += fmt::format(" AND ts_iso > ?1 - {}", *f.window);
  if (f.kind) where += fmt::format(" AND kind = '{}'", KindName(*f.kind));
  return where;
}

std::string Value(const FeatureSpec& f) {
  switch (f.aggregate) {
    case Aggregate::kCount:
    case Aggregate::kTopShare: return "count(*)";
    case Aggregate::kSum: return "sum(delta)";
    case Aggregate::kAvg: return "avg(delta)";
    case Aggregate::kMin: return "min(delta)";
    case Aggregate::kMax: return "max(delta)";
  }
  return "NULL";
}

// Per station with any event in the window: the aggregate.
std::string PerStation(const FeatureSpec& f, const std::string& raw) {
  return fmt::format("SELECT station_id, {} AS v FROM {} WHERE {} GROUP BY station_id", Value(f), raw,
                     Filter(f));
}

// Every known station, 0 where the window holds nothing.
std::string EveryStation(const FeatureSpec& f, const std::string& raw) {
  return fmt::format("SELECT k.station_id, coalesce(a.v, 0) AS v FROM known k LEFT JOIN ({}) a "
                     "ON a.station_id = k.station_id",
                     PerStation(f, raw));
}

}  // namespace

std::size_t TopShareRank(double share, std::size_t stations) {
  return static_cast<std::size_t>(std::ceil(share * double(stations) - kRankTolerance));
}

std::string SqliteFeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw) {
  std::string with = fmt::format("known AS (SELECT DISTINCT station_id FROM {} WHERE ts_iso <= ?1)", raw);
  std::vector<std::string> selects;
  for (std::size_t i = 0; i < features.size(); ++i) {
    const FeatureSpec& f = features[i];
    const std::string label = fmt::format("'{}' AS feature_name, '{}' AS window_len", f.name, f.window_len);
    switch (f.aggregate) {
      case Aggregate::kCount:
      case Aggregate::kSum:
        selects.push_back(fmt::format("SELECT station_id, {}, CAST(v AS REAL) AS value FROM ({})",
                                      label, EveryStation(f, raw)));
        break;
      case Aggregate::kAvg:
      case Aggregate::kMin:
      case Aggregate::kMax:
        selects.push_back(fmt::format("SELECT station_id, {}, CAST(v AS REAL) AS value FROM ({})",
                                      label, PerStation(f, raw)));
        break;
      case Aggregate::kTopShare: {
        // The k-th largest count, k = ceil(share × stations) (see TopShareRank).
        with += fmt::format(
            ", f{0}_counts AS ({1}), f{0}_kth AS (SELECT v FROM f{0}_counts ORDER BY v DESC "
            "LIMIT 1 OFFSET (SELECT CAST(x AS INTEGER) + (x > CAST(x AS INTEGER)) - 1 FROM "
            "(SELECT {2} * count(*) - {3} AS x FROM known)))",
            i, EveryStation(f, raw), f.share, kRankTolerance);
        selects.push_back(fmt::format(
            "SELECT station_id, {1}, CASE WHEN v > 0 AND v >= (SELECT v FROM f{0}_kth) THEN 1.0 "
            "ELSE 0.0 END AS value FROM f{0}_counts",
            i, label));
        break;
      }
    }
  }
  std::string query = "WITH " + with + " ";
  for (std::size_t i = 0; i < selects.size(); ++i) query += (i ? " UNION ALL " : "") + selects[i];
  return query;
}

}  // namespace bikestream
