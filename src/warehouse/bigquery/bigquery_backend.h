// The BigQuery warehouse's class, private to this folder. Its methods are defined by
// responsibility: schema.cc (opening, the dataset and tables), dialect.cc (its SQL dialect),
// writes.cc (events and dead letters: a commit through merge_committer.h, a replay in one
// transaction), reads.cc (queries, dead letters,
// events), feature_sql.cc (the feature store), stations.cc (the stations table), activity.cc (the
// console's reads).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "warehouse/bigquery/bigquery_warehouse.h"
#include "warehouse/bigquery/client.h"
#include "warehouse/sql/sql_dialect.h"

namespace bikestream::bigquery {

// The one-row table every merge and replay updates, so that two never run at once, and whose
// `commits` counts the merges (docs/adr/0007).
inline constexpr const char* kWriterTable = "_bikestream_writer";

class BigQueryWarehouse final : public Warehouse {
 public:
  BigQueryWarehouse(BigQueryWarehouseOptions options, TableNames tables);

  absl::Status Setup() override;
  void ObserveCosts(CostObserver observer) override { cost_observer_ = std::move(observer); }

  absl::StatusOr<CommitResult> Commit(const Batch& batch) override;
  // A merged worker stages its next batch while the last waits for its merge, so that merges
  // take more than one batch a worker; a transaction per batch is serialised on the writer
  // row, and another at once is only cancelled.
  int ConcurrentWriters() const override { return options_.transaction_per_batch ? 1 : 2; }
  absl::StatusOr<CommitResult> ResolveDeadLetters(
      const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) override;

  absl::StatusOr<std::vector<FeatureRow>> ComputeFeatures(const std::vector<FeatureSpec>& features,
                                                          TimestampMicros as_of) override;
  absl::StatusOr<std::size_t> RefreshFeatures(const std::vector<FeatureSpec>& features,
                                              TimestampMicros as_of) override;
  absl::StatusOr<std::vector<FeatureRow>> StoredFeatures(TimestampMicros as_of) override;
  absl::StatusOr<std::vector<FeatureRow>> StationFeatureHistory(std::string_view station_id,
                                                                TimestampMicros from,
                                                                TimestampMicros to) override;
  absl::Status WriteFeatureTicks(const std::vector<std::string>& feature_names,
                                 const std::vector<FeatureTick>& ticks) override;
  absl::StatusOr<std::optional<TimestampMicros>> LatestFeatureTime() override;
  absl::StatusOr<QueryResult> TrainingSet(const TrainingSetRequest& request) override;

  absl::StatusOr<QueryResult> Query(std::string_view sql) override;
  absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override;
  absl::StatusOr<std::vector<DeadLetterCount>> CountDeadLetters(DurationMicros bucket,
                                                                TimePeriod period) override;
  absl::Status ScanEvents(TimestampMicros after,
                          const std::function<void(const Event&)>& visit) override;
  absl::StatusOr<std::optional<TimestampMicros>> LatestEventTime() override;
  absl::StatusOr<std::vector<StationTotals>> EventTotals(TimestampMicros through) override;

  absl::Status UpsertStations(const std::vector<Station>& stations) override;
  absl::StatusOr<std::vector<Station>> ListStations() override;
  absl::StatusOr<std::vector<ActivityBucket>> StationBuckets(std::string_view station_id,
                                                             TimePeriod period) override;
  absl::StatusOr<std::vector<StationActivity>> BusiestStations(TimePeriod period,
                                                               std::size_t limit) override;

 private:
  // schema.cc
  absl::Status EnsureTable(const std::string& name, const nlohmann::json& fields,
                           const nlohmann::json& layout);
  // writes.cc
  absl::StatusOr<CommitResult> Write(const std::vector<Event>& events,
                                     const std::vector<DeadLetter>& letters,
                                     const std::vector<std::int64_t>& resolved_ids);
  // feature_sql.cc
  absl::StatusOr<QueryResult> LabeledTrainingSet(const std::vector<std::string>& features,
                                                 const TrainingSetRequest::Labels& labels);
  // reads.cc: a read-only statement's rows (or, with `on_page`, each page handed on), and a
  // script run as a query job under a new id `job_prefix`_...; each with its bytes reported.
  absl::StatusOr<Rows> Read(std::string_view what, const std::string& sql,
                            const nlohmann::json& parameters,
                            const Client::PageVisitor& on_page = {});
  absl::StatusOr<Rows> RunJob(std::string_view what, std::string_view job_prefix,
                              const std::string& script, const nlohmann::json& parameters);
  void ReportBytes(std::string_view statement, const Rows& rows) const;
  absl::StatusOr<std::optional<TimestampMicros>> MaxInstant(const char* column,
                                                            const std::string& table);

  BigQueryWarehouseOptions options_;
  const TableNames tables_;
  Client client_;
  MergeCommitter committer_;
  CostObserver cost_observer_;
};

// One day of event time, and an instant's day (UTC) as its first microsecond.
inline constexpr DurationMicros kDay = 24 * kMicrosPerHour;
TimestampMicros FloorToDay(TimestampMicros ts);

// The columns the writes send of an event and of a dead letter (writes.cc, staging.cc), and a
// row's cells in that order, as BigQuery takes them (nullopt is NULL). A dead letter's payload
// is cut at 1 MiB, the cut said in its error; its text is made UTF-8.
const std::vector<Field>& EventFields();
const std::vector<Field>& DeadLetterFields();
std::vector<std::optional<std::string>> EventRow(const Event& e);
std::vector<std::optional<std::string>> DeadLetterRow(const DeadLetter& d);

// A table name quoted for GoogleSQL: `name`.
std::string Quoted(std::string_view name);

// GoogleSQL's dialect of the queries the SQL engines share (dialect.cc), whose parameter n is
// @p<n>; InstantParameter is the n-th as a TIMESTAMP.
const SqlDialect& Dialect();
nlohmann::json InstantParameter(int n, TimestampMicros instant);

// A result as `query` prints it: timestamps as ISO 8601, doubles as the other engines print
// them.
QueryResult ForPeople(const Rows& rows);

// A FLOAT cell as a number; 0 for NULL or text that is not one.
double DoubleOf(const std::optional<std::string>& cell);

// An INT64 or TIMESTAMP cell (int64 microseconds) as a number; 0 for NULL or text that is
// not one.
std::int64_t IntegerOf(const std::optional<std::string>& cell);

}  // namespace bikestream::bigquery
