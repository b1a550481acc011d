#include "features/feature_sql.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace bikestream {
namespace {

constexpr double kRankTolerance = 1e-9;

// What differs between the engines; the query's shape is shared.
struct Dialect {
  const char* as_of;                                   // The as_of parameter.
  std::string (*window_start)(std::int64_t micros);    // as_of minus a window.
  const char* real;                                    // The double-precision type.
  std::string (*rank_offset)(const std::string& x);    // ceil(x) − 1 (x > 0), as an integer.
};

const Dialect kSqlite{
    .as_of = "?1",
    .window_start = [](std::int64_t micros) { return fmt::format("?1 - {}", micros); },
    .real = "REAL",
    // SQLite has no ceil() before 3.35, and a negative OFFSET counts as 0.
    .rank_offset = [](const std::string& x) {
      return fmt::format("CAST({0} AS INTEGER) + ({0} > CAST({0} AS INTEGER)) - 1", x);
    },
};

const Dialect kPostgres{
    .as_of = "$1",
    .window_start = [](std::int64_t micros) {
      return fmt::format("$1 - interval '{} microseconds'", micros);
    },
    .real = "double precision",
    // PostgreSQL refuses a negative OFFSET (no stations at all).
    .rank_offset = [](const std::string& x) {
      return fmt::format("greatest(CAST(ceil({}) AS bigint) - 1, 0)", x);
    },
};

// The WHERE clause of feature `f`: its window at as_of and its kind.
std::string Filter(const FeatureSpec& f, const Dialect& d) {
  std::string where = fmt::format("ts_iso <= {}", d.as_of);
  if (f.window) where += fmt::format(" AND ts_iso > {}", d.window_start(*f.window));
  if (f.kind) where += fmt::format(" AND kind = '{}'", KindName(*f.kind));
  return where;
}

// The mean is written as sum / count so that both engines do the same double division.
std::string Value(const FeatureSpec& f, const Dialect& d) {
  switch (f.aggregate) {
    case Aggregate::kCount:
    case Aggregate::kTopShare: return "count(*)";
    case Aggregate::kSum: return "sum(delta)";
    case Aggregate::kAvg: return fmt::format("CAST(sum(delta) AS {}) / count(*)", d.real);
    case Aggregate::kMin: return "min(delta)";
    case Aggregate::kMax: return "max(delta)";
  }
  return "NULL";
}

// Per station with any event in the window: the aggregate.
std::string PerStation(const FeatureSpec& f, const std::string& raw, const Dialect& d) {
  return fmt::format("SELECT station_id, {} AS v FROM {} WHERE {} GROUP BY station_id", Value(f, d),
                     raw, Filter(f, d));
}

// Every known station, 0 where the window holds nothing.
std::string EveryStation(const FeatureSpec& f, const std::string& raw, const Dialect& d) {
  return fmt::format("SELECT k.station_id, coalesce(a.v, 0) AS v FROM known k LEFT JOIN ({}) a "
                     "ON a.station_id = k.station_id",
                     PerStation(f, raw, d));
}

std::string FeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw,
                         const Dialect& d) {
  std::string with =
      fmt::format("known AS (SELECT DISTINCT station_id FROM {} WHERE ts_iso <= {})", raw, d.as_of);
  std::vector<std::string> selects;
  for (std::size_t i = 0; i < features.size(); ++i) {
    const FeatureSpec& f = features[i];
    const std::string label = fmt::format("'{}' AS feature_name, '{}' AS window_len", f.name, f.window_len);
    switch (f.aggregate) {
      case Aggregate::kCount:
      case Aggregate::kSum:
        selects.push_back(fmt::format("SELECT station_id, {}, CAST(v AS {}) AS value FROM ({}) f{}",
                                      label, d.real, EveryStation(f, raw, d), i));
        break;
      case Aggregate::kAvg:
      case Aggregate::kMin:
      case Aggregate::kMax:
        selects.push_back(fmt::format("SELECT station_id, {}, CAST(v AS {}) AS value FROM ({}) f{}",
                                      label, d.real, PerStation(f, raw, d), i));
        break;
      case Aggregate::kTopShare: {
        // The k-th largest count, k = ceil(share × stations) (see TopShareRank).
        const std::string x = fmt::format("(CAST({} AS {}) * count(*) - {})", f.share, d.real, kRankTolerance);
        with += fmt::format(
            ", f{0}_counts AS ({1}), f{0}_kth AS (SELECT v FROM f{0}_counts ORDER BY v DESC "
            "LIMIT 1 OFFSET (SELECT {2} FROM known))",
            i, EveryStation(f, raw, d), d.rank_offset(x));
        selects.push_back(fmt::format(
            "SELECT station_id, {1}, CAST(CASE WHEN v > 0 AND v >= (SELECT v FROM f{0}_kth) "
            "THEN 1 ELSE 0 END AS {2}) AS value FROM f{0}_counts",
            i, label, d.real));
        break;
      }
    }
  }
  std::string query = "WITH " + with + " ";
  for (std::size_t i = 0; i < selects.size(); ++i) query += (i ? " UNION ALL " : "") + selects[i];
  return query;
}

}  // namespace

std::size_t TopShareRank(double share, std::size_t stations) {
  return static_cast<std::size_t>(std::ceil(share * double(stations) - kRankTolerance));
}

std::string SqliteFeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw) {
  return FeatureQuery(features, raw, kSqlite);
}

std::string PostgresFeatureQuery(const std::vector<FeatureSpec>& features, const std::string& raw) {
  return FeatureQuery(features, raw, kPostgres);
}

}  // namespace bikestream
