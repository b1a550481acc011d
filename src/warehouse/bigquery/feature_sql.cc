// The feature store on BigQuery: the shared feature query, refreshes and streaming ticks as
// transactions run as query jobs (as commits are), stored rows and training sets through
// jobs.query.
#include <fmt/format.h>

#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/sql/feature_query.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/training_set_query.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

// Rows of station_features per request: about 4 MB of JSON, well below BigQuery's 10 MB. A
// tick of more rows is one request still (a tick is replaced at once), up to about 45,000.
constexpr std::size_t kMaxRowsPerRequest = 20'000;
// Entity rows per request, by the bytes of their text (each field costs its JSON around it).
constexpr std::size_t kMaxEntityBytesPerRequest = 4 << 20;
constexpr std::size_t kJsonBytesPerField = 48;

const std::vector<Field> kFeatureFields = {{"station_id", "STRING"},
                                           {"feature_name", "STRING"},
                                           {"window_len", "STRING"},
                                           {"value", "FLOAT64"},
                                           {"as_of", "TIMESTAMP"}};

json AsOfParameter(TimestampMicros as_of) { return InstantParameter(1, as_of); }

std::vector<FeatureRow> FeatureRowsOf(const Rows& rows, TimestampMicros as_of) {
  std::vector<FeatureRow> features;
  features.reserve(rows.rows.size());
  for (const auto& r : rows.rows) {
    features.push_back(
        {r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), DoubleOf(r[3]), as_of});
  }
  return features;
}

}  // namespace

absl::StatusOr<std::vector<FeatureRow>> BigQueryWarehouse::ComputeFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  auto rows = Read("features", FeatureQuery(features, Quoted(tables_.raw_events), Dialect()),
                   json::array({AsOfParameter(as_of)}));
  if (!rows.ok()) return rows.status();
  return FeatureRowsOf(*rows, as_of);
}

// One transaction: the rows computed into a temporary table, the stored ones of these features
// at as_of replaced by them; then their number, the script's result.
absl::StatusOr<std::size_t> BigQueryWarehouse::RefreshFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  const std::string table = Quoted(tables_.station_features);
  const std::string script = fmt::format(
      "BEGIN TRANSACTION;\n"
      "CREATE TEMP TABLE computed AS {1};\n"
      "DELETE FROM {0} WHERE as_of = {2} AND feature_name IN UNNEST(@names);\n"
      "INSERT INTO {0} (station_id, feature_name, window_len, value, as_of)\n"
      "  SELECT station_id, feature_name, window_len, value, {2} FROM computed;\n"
      "COMMIT TRANSACTION;\n"
      "SELECT COUNT(*) AS written FROM computed;\n",
      table, FeatureQuery(features, Quoted(tables_.raw_events), Dialect()), Dialect().instant(1));
  auto rows = RunJob("features", "bikestream_features", script,
                     json::array({AsOfParameter(as_of),
                                  ArrayParameter("names", "STRING", FeatureNames(features))}));
  if (!rows.ok()) return rows.status();
  return rows->rows.empty() || rows->rows[0].empty() ? 0 : std::size_t(IntegerOf(rows->rows[0][0]));
}

absl::Status BigQueryWarehouse::WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                                  const std::vector<FeatureTick>& ticks) {
  const std::string table = Quoted(tables_.station_features);
  const std::string script = fmt::format(
      "BEGIN TRANSACTION;\n"
      "DELETE FROM {0} WHERE as_of IN UNNEST(@as_ofs) AND feature_name IN UNNEST(@names);\n"
      "INSERT INTO {0} (station_id, feature_name, window_len, value, as_of)\n"
      "  SELECT station_id, feature_name, window_len, value, as_of FROM UNNEST(@rows);\n"
      "COMMIT TRANSACTION;\n",
      table);
  // Each request one transaction of whole ticks: a tick is never half replaced.
  for (const auto& request : RunsOfWholeTicks(ticks, kMaxRowsPerRequest)) {
    std::vector<std::string> as_ofs;
    std::vector<std::vector<std::optional<std::string>>> rows;
    for (const FeatureTick* tick : request) {
      as_ofs.push_back(TimestampText(tick->as_of));
      for (const FeatureRow& row : tick->rows) {
        rows.push_back({ValidUtf8(row.station_id), row.feature_name, row.window_len,
                        fmt::format("{}", row.value), as_ofs.back()});
      }
    }
    auto written = RunJob("feature ticks", "bikestream_ticks", script,
                          json::array({ArrayParameter("as_ofs", "TIMESTAMP", as_ofs),
                                       ArrayParameter("names", "STRING", feature_names),
                                       StructArrayParameter("rows", kFeatureFields, rows)}));
    if (!written.ok()) return written.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FeatureRow>> BigQueryWarehouse::StoredFeatures(TimestampMicros as_of) {
  auto rows = Read(
      "stored features",
      fmt::format("SELECT station_id, feature_name, window_len, value FROM {} WHERE as_of = {} "
                  "ORDER BY station_id, feature_name, window_len",
                  Quoted(tables_.station_features), Dialect().instant(1)),
      json::array({AsOfParameter(as_of)}));
  if (!rows.ok()) return rows.status();
  return FeatureRowsOf(*rows, as_of);
}

absl::StatusOr<std::optional<TimestampMicros>> BigQueryWarehouse::LatestFeatureTime() {
  return MaxInstant("as_of", tables_.station_features);
}

absl::StatusOr<QueryResult> BigQueryWarehouse::TrainingSet(const TrainingSetRequest& request) {
  if (request.labels) return LabeledTrainingSet(request.features, *request.labels);
  json parameters = json::array();
  if (request.range) {
    parameters.push_back(InstantParameter(1, request.range->first));
    parameters.push_back(InstantParameter(2, request.range->second));
  } else {
    parameters.push_back(InstantParameter(1, request.as_of.value_or(0)));
  }
  auto rows = Read("training-set",
                   TrainingSetQuery(request.features, request.range.has_value(),
                                    Quoted(tables_.station_features), Dialect()),
                   parameters);
  if (!rows.ok()) return rows.status();
  return ForPeople(*rows);
}

// The entity rows travel as a parameter, so the point-in-time join runs in BigQuery; a long
// file takes several requests (about 4 MB of text, or 20,000 rows, each), whose results follow
// one another in the file's order.
absl::StatusOr<QueryResult> BigQueryWarehouse::LabeledTrainingSet(
    const std::vector<std::string>& features, const TrainingSetRequest::Labels& labels) {
  std::vector<Field> fields = {
      {"entity_row", "INT64"}, {"station_id", "STRING"}, {"ts", "TIMESTAMP"}};
  for (std::size_t i = 0; i < labels.columns.size(); ++i)
    fields.push_back({fmt::format("label{}", i), "STRING"});
  const std::string sql = PointInTimeJoinQuery(features, "UNNEST(@labels)", labels.columns.size(),
                                               Quoted(tables_.station_features), Dialect());
  Rows all;
  std::vector<std::vector<std::optional<std::string>>> entities;
  std::size_t bytes = 0;
  const auto flush = [&]() -> absl::Status {
    auto rows =
        Read("training-set", sql, json::array({StructArrayParameter("labels", fields, entities)}));
    if (!rows.ok()) return rows.status();
    if (all.fields.empty()) all.fields = rows->fields;
    for (auto& row : rows->rows) all.rows.push_back(std::move(row));
    entities.clear();
    bytes = 0;
    return absl::OkStatus();
  };
  for (std::size_t r = 0; r < labels.rows.size(); ++r) {
    const auto& row = labels.rows[r];
    auto& entity = entities.emplace_back();
    entity = {std::to_string(r), ValidUtf8(row.station_id), TimestampText(row.ts)};
    for (std::size_t i = 0; i < labels.columns.size(); ++i) {
      entity.push_back(i < row.labels.size() ? std::optional<std::string>(ValidUtf8(row.labels[i]))
                                             : std::nullopt);
    }
    for (const auto& field : entity) bytes += kJsonBytesPerField + (field ? field->size() : 0);
    if (bytes >= kMaxEntityBytesPerRequest || entities.size() >= kMaxRowsPerRequest) {
      if (absl::Status status = flush(); !status.ok()) return status;
    }
  }
  if (!entities.empty() || all.fields.empty()) {
    if (absl::Status status = flush(); !status.ok()) return status;
  }
  QueryResult result = ForPeople(all);
  NameLabelColumns(labels.columns, result);
  return result;
}

}  // namespace bikestream::bigquery
