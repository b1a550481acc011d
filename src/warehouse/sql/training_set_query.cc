#include "warehouse/sql/training_set_query.h"

#include <fmt/format.h>

namespace bikestream {
namespace {

// One column per feature, for a GROUP BY of station and as_of over station_features f.
std::string Pivot(const std::vector<std::string>& features, const SqlDialect& d) {
  std::string columns;
  for (const std::string& name : features) {
    columns += fmt::format(", max(CASE WHEN f.feature_name = '{}' THEN f.value END) AS {}", name,
                           d.quote(name));
  }
  return columns;
}

// ", l.label0, l.label1, ..."
std::string LabelColumns(std::size_t label_count) {
  std::string columns;
  for (std::size_t i = 0; i < label_count; ++i) columns += fmt::format(", l.label{}", i);
  return columns;
}

// (entity_row, as_of): each entity row's latest tick at or before its ts, if any.
std::string LatestTicks(std::string_view labels, const std::string& features_table,
                        const SqlDialect& d) {
  if (d.latest_tick == SqlDialect::LatestTick::kCorrelated) {
    return fmt::format(
        "SELECT l.entity_row, (SELECT max(g.as_of) FROM {1} g WHERE g.station_id = l.station_id "
        "AND g.as_of <= l.ts) AS as_of FROM {0} AS l",
        labels, features_table);
  }
  return fmt::format(
      "SELECT l.entity_row, max(g.as_of) AS as_of FROM {0} AS l JOIN {1} g "
      "ON g.station_id = l.station_id AND g.as_of <= l.ts GROUP BY l.entity_row",
      labels, features_table);
}

}  // namespace

std::string TrainingSetQuery(const std::vector<std::string>& features, bool range,
                             const std::string& features_table, const SqlDialect& d) {
  const std::string where =
      range ? fmt::format("f.as_of BETWEEN {} AND {}", d.instant(1), d.instant(2))
            : fmt::format("f.as_of = {}", d.instant(1));
  return fmt::format(
      "SELECT f.station_id, f.as_of{} FROM {} f WHERE {} GROUP BY f.station_id, f.as_of "
      "ORDER BY f.as_of, f.station_id{}",
      Pivot(features, d), features_table, where, d.text_order);
}

std::string PointInTimeJoinQuery(const std::vector<std::string>& features, std::string_view labels,
                                 std::size_t label_count, const std::string& features_table,
                                 const SqlDialect& d) {
  const std::string label_columns = LabelColumns(label_count);
  return fmt::format(
      "WITH latest AS ({0}) "
      "SELECT l.station_id, l.ts, f.as_of{1}{2} FROM {3} AS l "
      "LEFT JOIN latest ON latest.entity_row = l.entity_row "
      "LEFT JOIN {4} f ON f.station_id = l.station_id AND f.as_of = latest.as_of "
      "GROUP BY l.entity_row, l.station_id, l.ts, f.as_of{1} ORDER BY l.entity_row",
      LatestTicks(labels, features_table, d), label_columns, Pivot(features, d), labels,
      features_table);
}

void NameLabelColumns(const std::vector<std::string>& labels, QueryResult& result) {
  constexpr std::size_t kFirstLabel = 3;  // After station_id, ts and as_of.
  for (std::size_t i = 0; i < labels.size() && kFirstLabel + i < result.columns.size(); ++i) {
    result.columns[kFirstLabel + i] = labels[i];
  }
}

}  // namespace bikestream
