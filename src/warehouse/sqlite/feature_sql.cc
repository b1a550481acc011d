// The feature store on SQLite: the shared feature query, refreshes, stored rows and training
// sets.
#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/sql/feature_query.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/training_set_query.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {
absl::StatusOr<std::vector<FeatureRow>> SqliteWarehouse::ComputeFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  auto stmt = Statement::Prepare(
      db_.get(), FeatureQuery(features, QuoteIdentifier(tables_.raw_events), Dialect()));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  return ReadFeatureRows(*stmt, as_of, "computing features failed");
}

absl::StatusOr<std::size_t> SqliteWarehouse::RefreshFeatures(
    const std::vector<FeatureSpec>& features, TimestampMicros as_of) {
  const std::vector<std::string> feature_names = FeatureNames(features);
  const std::string table = QuoteIdentifier(tables_.station_features);
  auto transaction = Transaction::Begin(db_.get());
  if (!transaction.ok()) return transaction.status();
  auto remove = PrepareTickDelete(feature_names);
  if (!remove.ok()) return remove.status();
  remove->Bind(1, as_of);
  if (auto done = remove->Run(); !done.ok()) return done.status();
  auto insert = Statement::Prepare(
      db_.get(),
      fmt::format("INSERT INTO {} (station_id, feature_name, window_len, value, as_of) "
                  "SELECT station_id, feature_name, window_len, value, ?1 FROM ({})",
                  table, FeatureQuery(features, QuoteIdentifier(tables_.raw_events), Dialect())));
  if (!insert.ok()) return WithSetupHint(insert.status());
  insert->Bind(1, as_of);
  auto written = insert->Run();
  if (!written.ok()) return written.status();
  if (auto status = transaction->Commit(); !status.ok()) return status;
  return static_cast<std::size_t>(*written);
}

absl::StatusOr<std::vector<FeatureRow>> SqliteWarehouse::StoredFeatures(TimestampMicros as_of) {
  auto stmt = Statement::Prepare(
      db_.get(), fmt::format("SELECT station_id, feature_name, window_len, value FROM {} WHERE "
                             "as_of = ?1 ORDER BY station_id, feature_name, window_len",
                             QuoteIdentifier(tables_.station_features)));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  return ReadFeatureRows(*stmt, as_of, "reading features failed");
}

absl::Status SqliteWarehouse::WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                                const std::vector<FeatureTick>& ticks) {
  const std::string table = QuoteIdentifier(tables_.station_features);
  auto transaction = Transaction::Begin(db_.get());
  if (!transaction.ok()) return transaction.status();
  auto remove = PrepareTickDelete(feature_names);
  if (!remove.ok()) return remove.status();
  auto insert = Statement::Prepare(
      db_.get(), fmt::format("INSERT INTO {} (station_id, feature_name, window_len, value, as_of) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
                             table));
  if (!insert.ok()) return insert.status();
  for (const FeatureTick& tick : ticks) {
    remove->Bind(1, tick.as_of);
    if (auto done = remove->Run(); !done.ok()) return done.status();
    for (const FeatureRow& row : tick.rows) {
      insert->Bind(1, row.station_id);
      insert->Bind(2, row.feature_name);
      insert->Bind(3, row.window_len);
      sqlite3_bind_double(insert->get(), 4, row.value);
      insert->Bind(5, tick.as_of);
      if (auto done = insert->Run(); !done.ok()) return done.status();
    }
  }
  return transaction->Commit();
}

absl::StatusOr<std::optional<TimestampMicros>> SqliteWarehouse::LatestFeatureTime() {
  return MaxOf("as_of", tables_.station_features);
}

absl::StatusOr<QueryResult> SqliteWarehouse::TrainingSet(const TrainingSetRequest& request) {
  const std::string table = QuoteIdentifier(tables_.station_features);
  if (request.labels) return LabeledTrainingSet(request.features, *request.labels);
  auto stmt = Statement::Prepare(
      db_.get(), TrainingSetQuery(request.features, request.range.has_value(), table, Dialect()));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  if (request.range) {
    stmt->Bind(1, request.range->first);
    stmt->Bind(2, request.range->second);
  } else {
    stmt->Bind(1, request.as_of.value_or(0));
  }
  return Rows(stmt->get());
}

// The entity rows go into a temporary table, so the point-in-time join runs in SQL.
absl::StatusOr<QueryResult> SqliteWarehouse::LabeledTrainingSet(
    const std::vector<std::string>& features, const TrainingSetRequest::Labels& labels) {
  std::string columns;
  for (std::size_t i = 0; i < labels.columns.size(); ++i)
    columns += fmt::format(", label{} TEXT", i);
  if (auto status = Exec(
          db_.get(), fmt::format("DROP TABLE IF EXISTS temp.bikestream_labels; "
                                 "CREATE TEMP TABLE bikestream_labels (entity_row INTEGER PRIMARY "
                                 "KEY, station_id TEXT, ts TIMESTAMP{})",
                                 columns));
      !status.ok()) {
    return status;
  }
  std::string placeholders;
  for (std::size_t i = 0; i < labels.columns.size(); ++i)
    placeholders += fmt::format(", ?{}", i + 4);
  auto insert = Statement::Prepare(
      db_.get(),
      fmt::format("INSERT INTO temp.bikestream_labels VALUES (?1, ?2, ?3{})", placeholders));
  if (!insert.ok()) return insert.status();
  for (std::size_t r = 0; r < labels.rows.size(); ++r) {
    const auto& row = labels.rows[r];
    insert->Bind(1, std::int64_t(r));
    insert->Bind(2, row.station_id);
    insert->Bind(3, row.ts);
    for (std::size_t i = 0; i < labels.columns.size(); ++i) {
      if (i < row.labels.size()) {
        insert->Bind(int(i + 4), row.labels[i]);
      } else {
        insert->BindNull(int(i + 4));
      }
    }
    if (auto done = insert->Run(); !done.ok()) return done.status();
  }
  auto stmt = Statement::Prepare(
      db_.get(), PointInTimeJoinQuery(features, "temp.bikestream_labels", labels.columns.size(),
                                      QuoteIdentifier(tables_.station_features), Dialect()));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  auto result = Rows(stmt->get());
  if (result.ok()) NameLabelColumns(labels.columns, *result);
  return result;
}

// Rows of (station_id, feature_name, window_len, value) for `as_of`, bound as ?1.
absl::StatusOr<std::vector<FeatureRow>> SqliteWarehouse::ReadFeatureRows(Statement& stmt,
                                                                         TimestampMicros as_of,
                                                                         std::string_view failure) {
  stmt.Bind(1, as_of);
  std::vector<FeatureRow> rows;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    rows.push_back(FeatureRow{ColumnText(stmt.get(), 0), ColumnText(stmt.get(), 1),
                              ColumnText(stmt.get(), 2), sqlite3_column_double(stmt.get(), 3),
                              as_of});
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), failure);
  return rows;
}

// Deletes the rows of these features at ?1, the as_of that a refresh replaces.
absl::StatusOr<Statement> SqliteWarehouse::PrepareTickDelete(
    const std::vector<std::string>& feature_names) {
  auto remove = Statement::Prepare(
      db_.get(),
      fmt::format("DELETE FROM {} WHERE as_of = ?1 AND feature_name IN ({})",
                  QuoteIdentifier(tables_.station_features), FeatureNameList(feature_names)));
  if (!remove.ok()) return WithSetupHint(remove.status());
  return remove;
}

}  // namespace bikestream::sqlite
