// The feature store on Spanner: the shared feature query, refreshes and streaming ticks in
// read-write transactions, stored rows and training sets.
#include <fmt/format.h>

#include <algorithm>

#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/feature_query.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/training_set_query.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::spanner {
namespace {

using json = nlohmann::json;

// Entity rows per query of a training set: the request stays a few MB.
constexpr std::size_t kMaxEntityRowsPerQuery = 10'000;

std::vector<FeatureRow> FeatureRowsOf(const ResultSet& rows, TimestampMicros as_of) {
  std::vector<FeatureRow> features;
  features.reserve(rows.rows.size());
  for (const auto& r : rows.rows) {
    features.push_back({TextOf(r[0]), TextOf(r[1]), TextOf(r[2]), DoubleOf(r[3]), as_of});
  }
  return features;
}

}  // namespace

absl::StatusOr<std::vector<FeatureRow>> SpannerWarehouse::ComputeFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  auto rows = Read(FeatureQuery(features, Quoted(tables_.raw_events), Dialect()),
                   {InstantParameter(1, as_of)});
  if (!rows.ok()) return rows.status();
  return FeatureRowsOf(*rows, as_of);
}

// Computed by a strong read (a read-write transaction would lock the events it reads, and
// Spanner refuses WITH in the subquery of an INSERT), then in one transaction the stored rows of
// these features at as_of replaced by them.
absl::StatusOr<std::size_t> SpannerWarehouse::RefreshFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  auto computed = ComputeFeatures(features, as_of);
  if (!computed.ok()) return computed.status();
  const std::vector<std::string> names = FeatureNames(features);
  std::vector<FeatureTick> tick(1);
  tick[0].as_of = as_of;
  tick[0].rows = std::move(*computed);
  if (absl::Status written = WriteFeatureTicks(names, tick); !written.ok()) return written;
  return tick[0].rows.size();
}

absl::StatusOr<std::vector<FeatureRow>> SpannerWarehouse::StoredFeatures(TimestampMicros as_of) {
  auto rows = Read(
      fmt::format("SELECT station_id, feature_name, window_len, value FROM {} WHERE as_of = @p1 "
                  "ORDER BY station_id, feature_name, window_len",
                  Quoted(tables_.station_features)),
      {InstantParameter(1, as_of)});
  if (!rows.ok()) return rows.status();
  return FeatureRowsOf(*rows, as_of);
}

absl::StatusOr<std::vector<FeatureRow>> SpannerWarehouse::StationFeatureHistory(
    std::string_view station_id, TimestampMicros from, TimestampMicros to) {
  auto rows =
      Read(fmt::format("SELECT feature_name, window_len, value, as_of FROM {} WHERE station_id = "
                       "@station AND as_of >= @p1 AND as_of <= @p2 ORDER BY as_of, feature_name, "
                       "window_len",
                       Quoted(tables_.station_features)),
           {{"station", String(ValidUtf8(station_id))},
            InstantParameter(1, from),
            InstantParameter(2, to)});
  if (!rows.ok()) return rows.status();
  std::vector<FeatureRow> features;
  features.reserve(rows->rows.size());
  for (const auto& r : rows->rows) {
    features.push_back(
        {std::string(station_id), TextOf(r[0]), TextOf(r[1]), DoubleOf(r[2]), InstantOf(r[3])});
  }
  return features;
}

// In transactions within Spanner's mutations a commit (commit_parts.h), counting the stored
// rows each deletes: runs of whole ticks, so that a tick is never half replaced, unless it alone
// is past one commit (thousands of stations).
absl::Status SpannerWarehouse::WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                                 const std::vector<FeatureTick>& ticks) {
  if (ticks.empty()) return absl::OkStatus();
  std::vector<TimestampMicros> as_ofs;
  as_ofs.reserve(ticks.size());
  for (const FeatureTick& tick : ticks) as_ofs.push_back(tick.as_of);
  auto stored = CountStoredFeatures(as_ofs, feature_names);
  if (!stored.ok()) return stored.status();
  auto plan = PlanFeatureWrites(ticks, feature_names, *stored, options_.limits);
  if (!plan.ok()) return plan.status();
  for (const FeatureTransaction& transaction : *plan) {
    if (absl::Status written = RunFeatureTransaction(transaction); !written.ok()) return written;
  }
  return absl::OkStatus();
}

absl::StatusOr<StoredFeatureCounts> SpannerWarehouse::CountStoredFeatures(
    const std::vector<TimestampMicros>& as_ofs, const std::vector<std::string>& names) {
  auto rows = Read(fmt::format("SELECT as_of, feature_name, COUNT(*) FROM {} WHERE as_of IN "
                               "UNNEST(@as_ofs) AND feature_name IN UNNEST(@names) GROUP BY "
                               "as_of, feature_name",
                               Quoted(tables_.station_features)),
                   {{"as_ofs", TimestampArray(as_ofs)}, {"names", StringArray(names)}});
  if (!rows.ok()) return rows.status();
  StoredFeatureCounts counts;
  for (const auto& r : rows->rows) {
    counts[{InstantOf(r[0]), TextOf(r[1])}] =
        std::size_t(std::max<std::int64_t>(IntegerOf(r[2]), 0));
  }
  return counts;
}

absl::Status SpannerWarehouse::RunFeatureTransaction(const FeatureTransaction& transaction) {
  Mutation insert{.kind = Mutation::Kind::kInsertOrUpdate,
                  .table = tables_.station_features,
                  .columns = {"station_id", "feature_name", "window_len", "value", "as_of"}};
  for (const auto& [as_of, row] : transaction.rows) {
    insert.rows.push_back({ValidUtf8(row->station_id), row->feature_name, row->window_len,
                           Float64(row->value).value, FormatRfc3339(as_of)});
  }
  auto committed = client_.RunTransaction([&](Transaction& t) -> absl::Status {
    if (!transaction.names.empty()) {
      auto removed = t.ExecuteSql(
          fmt::format("DELETE FROM {} WHERE as_of IN UNNEST(@as_ofs) AND feature_name IN "
                      "UNNEST(@names)",
                      Quoted(tables_.station_features)),
          {{"as_ofs", TimestampArray(transaction.as_ofs)},
           {"names", StringArray(transaction.names)}});
      if (!removed.ok()) return removed.status();
    }
    if (!insert.rows.empty()) t.Buffer(insert);
    return absl::OkStatus();
  });
  return WithSetupHint(committed.status());
}

absl::StatusOr<std::optional<TimestampMicros>> SpannerWarehouse::LatestFeatureTime() {
  return MaxInstant("as_of", tables_.station_features);
}

absl::StatusOr<QueryResult> SpannerWarehouse::TrainingSet(const TrainingSetRequest& request) {
  if (request.labels) return LabeledTrainingSet(request.features, *request.labels);
  Params params;
  if (request.range) {
    params = {InstantParameter(1, request.range->first),
              InstantParameter(2, request.range->second)};
  } else {
    params = {InstantParameter(1, request.as_of.value_or(0))};
  }
  auto rows = Read(TrainingSetQuery(request.features, request.range.has_value(),
                                    Quoted(tables_.station_features), Dialect()),
                   params);
  if (!rows.ok()) return rows.status();
  return ForPeople(*rows);
}

// The entity rows travel as a parameter, so the point-in-time join runs in Spanner; a long file
// takes several queries, whose results follow one another in the file's order.
absl::StatusOr<QueryResult> SpannerWarehouse::LabeledTrainingSet(
    const std::vector<std::string>& features, const TrainingSetRequest::Labels& labels) {
  std::vector<StructField> fields = {
      {"entity_row", "INT64"}, {"station_id", "STRING"}, {"ts", "TIMESTAMP"}};
  for (std::size_t i = 0; i < labels.columns.size(); ++i)
    fields.push_back({fmt::format("label{}", i), "STRING"});
  const std::string sql = PointInTimeJoinQuery(features, "UNNEST(@labels)", labels.columns.size(),
                                               Quoted(tables_.station_features), Dialect());
  QueryResult all;
  std::vector<std::vector<json>> entities;
  const auto flush = [&]() -> absl::Status {
    auto rows = Read(sql, {{"labels", StructArray(fields, entities)}});
    if (!rows.ok()) return rows.status();
    QueryResult part = ForPeople(*rows);
    if (all.columns.empty()) all.columns = std::move(part.columns);
    for (auto& row : part.rows) all.rows.push_back(std::move(row));
    entities.clear();
    return absl::OkStatus();
  };
  for (std::size_t r = 0; r < labels.rows.size(); ++r) {
    const auto& row = labels.rows[r];
    auto& entity = entities.emplace_back();
    entity = {std::to_string(r), ValidUtf8(row.station_id), FormatRfc3339(row.ts)};
    for (std::size_t i = 0; i < labels.columns.size(); ++i) {
      entity.push_back(i < row.labels.size() ? json(ValidUtf8(row.labels[i])) : json(nullptr));
    }
    if (entities.size() >= kMaxEntityRowsPerQuery) {
      if (absl::Status status = flush(); !status.ok()) return status;
    }
  }
  if (!entities.empty() || all.columns.empty()) {
    if (absl::Status status = flush(); !status.ok()) return status;
  }
  NameLabelColumns(labels.columns, all);
  return all;
}

}  // namespace bikestream::spanner
