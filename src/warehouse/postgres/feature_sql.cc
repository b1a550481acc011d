// The feature store on PostgreSQL: the shared feature query, refreshes, stored rows and
// training sets.
#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/postgres/postgres_backend.h"
#include "warehouse/postgres/postgres_rows.h"
#include "warehouse/sql/feature_query.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/training_set_query.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::postgres {
absl::StatusOr<std::vector<FeatureRow>> PostgresWarehouse::ComputeFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  const std::string as_of_text = FormatRfc3339(as_of);
  const Param params[] = {{as_of_text}};
  return Read(FeatureQuery(features, raw_, Dialect()), params,
              [as_of](const PGresult* rows) { return FeatureRowsOf(rows, as_of); });
}

absl::StatusOr<std::size_t> PostgresWarehouse::RefreshFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  const std::vector<std::string> names = FeatureNames(features);
  const std::string as_of_text = FormatRfc3339(as_of);
  const Param params[] = {{as_of_text}};
  const std::string insert = fmt::format(
      "INSERT INTO {} (station_id, feature_name, window_len, value, as_of) "
      "SELECT station_id, feature_name, window_len, value, {} FROM ({}) computed",
      features_, Instant(1), FeatureQuery(features, raw_, Dialect()));
  return Retrying([&](PGconn* c) -> absl::StatusOr<std::size_t> {
    auto transaction = Transaction::Begin(c);
    if (!transaction.ok()) return transaction.status();
    if (auto removed = Exec(c, TickDeleteSql(names), params); !removed.ok())
      return removed.status();
    auto written = Exec(c, insert, params);
    if (!written.ok()) return written.status();
    if (auto status = transaction->Commit(); !status.ok()) return status;
    return static_cast<std::size_t>(std::stoll(PQcmdTuples(written->get())));
  });
}

absl::StatusOr<std::vector<FeatureRow>> PostgresWarehouse::StoredFeatures(TimestampMicros as_of) {
  // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
  const std::string sql = fmt::format(
      "SELECT station_id, feature_name, window_len, value FROM {} WHERE as_of = {} "
      "ORDER BY station_id COLLATE \"C\", feature_name COLLATE \"C\", window_len COLLATE \"C\"",
      features_, Instant(1));
  const std::string as_of_text = FormatRfc3339(as_of);
  const Param params[] = {{as_of_text}};
  return Read(sql, params, [as_of](const PGresult* rows) { return FeatureRowsOf(rows, as_of); });
}

absl::Status PostgresWarehouse::WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                                  const std::vector<FeatureTick>& ticks) {
  const std::string copy = fmt::format(
      "COPY {} (station_id, feature_name, window_len, value, as_of) FROM STDIN", features_);
  return Retrying([&](PGconn* c) -> absl::Status {
    auto transaction = Transaction::Begin(c);
    if (!transaction.ok()) return transaction.status();
    for (const FeatureTick& tick : ticks) {
      const std::string as_of_text = FormatRfc3339(tick.as_of);
      const Param params[] = {{as_of_text}};
      if (auto removed = Exec(c, TickDeleteSql(feature_names), params); !removed.ok()) {
        return removed.status();
      }
      std::string data;
      for (const FeatureRow& row : tick.rows) {
        AppendCopyField(data, row.station_id);
        data += '\t';
        AppendCopyField(data, row.feature_name);
        data += '\t';
        AppendCopyField(data, row.window_len);
        fmt::format_to(std::back_inserter(data), "\t{}\t{}\n", row.value, as_of_text);
      }
      if (auto status = CopyIn(c, copy, data); !status.ok()) return status;
    }
    return transaction->Commit();
  });
}

absl::StatusOr<std::optional<TimestampMicros>> PostgresWarehouse::LatestFeatureTime() {
  return MaxInstant("as_of", features_);
}

absl::StatusOr<QueryResult> PostgresWarehouse::TrainingSet(const TrainingSetRequest& request) {
  if (request.labels) {
    return Retrying(
        [&](PGconn* c) { return LabeledTrainingSet(c, request.features, *request.labels); });
  }
  const std::string sql =
      TrainingSetQuery(request.features, request.range.has_value(), features_, Dialect());
  std::vector<std::string> instants;
  if (request.range) {
    instants = {FormatRfc3339(request.range->first), FormatRfc3339(request.range->second)};
  } else {
    instants = {FormatRfc3339(request.as_of.value_or(0))};
  }
  std::vector<Param> params;
  params.reserve(instants.size());
  for (const std::string& instant : instants) params.push_back({instant});
  return Read(sql, params, ResultOf);
}

std::string PostgresWarehouse::TickDeleteSql(const std::vector<std::string>& feature_names) const {
  return fmt::format("DELETE FROM {} WHERE as_of = {} AND feature_name IN ({})", features_,
                     Instant(1), FeatureNameList(feature_names));
}

// The entity rows go into a temporary table, so the point-in-time join runs on the server.
absl::StatusOr<QueryResult> PostgresWarehouse::LabeledTrainingSet(
    PGconn* c, const std::vector<std::string>& features, const TrainingSetRequest::Labels& labels) {
  std::string columns;
  for (std::size_t i = 0; i < labels.columns.size(); ++i)
    columns += fmt::format(", label{} text", i);
  if (auto status = ExecScript(
          c, fmt::format("DROP TABLE IF EXISTS pg_temp.{0}; CREATE TEMP TABLE {0} (entity_row "
                         "integer PRIMARY KEY, station_id text, ts timestamptz{1})",
                         kLabels, columns));
      !status.ok()) {
    return status;
  }
  std::string data;
  for (std::size_t r = 0; r < labels.rows.size(); ++r) {
    const auto& row = labels.rows[r];
    fmt::format_to(std::back_inserter(data), "{}\t", r);
    AppendCopyField(data, ValidUtf8(row.station_id));
    fmt::format_to(std::back_inserter(data), "\t{}", FormatRfc3339(row.ts));
    for (std::size_t i = 0; i < labels.columns.size(); ++i) {
      data += '\t';
      if (i < row.labels.size()) {
        AppendCopyField(data, ValidUtf8(row.labels[i]));
      } else {
        data += "\\N";
      }
    }
    data += '\n';
  }
  if (auto status = CopyIn(c, fmt::format("COPY {} FROM STDIN", kLabels), data); !status.ok()) {
    return status;
  }
  auto result =
      Exec(c, PointInTimeJoinQuery(features, kLabels, labels.columns.size(), features_, Dialect()));
  if (!result.ok()) return result.status();
  QueryResult rows = ResultOf(result->get());
  NameLabelColumns(labels.columns, rows);
  return rows;
}

}  // namespace bikestream::postgres
