// The Spanner warehouse's class, private to this folder. Its methods are defined by
// responsibility: schema.cc (the database and tables, checked before use), dialect.cc (its SQL
// dialect), writes.cc (events and dead letters: one read-write transaction per batch, or more
// within Spanner's limits, commit_parts.h; docs/adr/0010), reads.cc (SQL for a person, dead
// letters and events read back), feature_sql.cc (the feature store), stations.cc (the stations
// table), activity.cc (the console's reads).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "warehouse/spanner/client.h"
#include "warehouse/spanner/commit_parts.h"
#include "warehouse/sql/sql_dialect.h"
#include "warehouse/warehouse.h"

namespace bikestream::spanner {

// GoogleSQL on Spanner, for the queries the SQL engines share (dialect.cc): parameter n is
// @p<n>, InstantParameter(n, ...) its value.
const SqlDialect& Dialect();
std::pair<std::string, Value> InstantParameter(int n, TimestampMicros instant);

// Spanner's 128 characters for a name, less the longest suffix of an index's ("_by_station_time").
inline constexpr std::size_t kMaxTableNameBytes = 128 - 16;

struct SpannerWarehouseOptions {
  ClientOptions client;   // endpoint, project, instance, database, credentials.
  bool emulator = false;  // The emulator: Setup creates the instance too (free there).
  // What one read-write transaction may hold: Spanner's 80,000 mutations, and bytes of dead
  // letters within its 100 MB a commit (the request carries payloads in base64, a third more;
  // the rest of the margin is for the events beside them and the index entries).
  CommitLimits limits;
};

// A dead letter's payload is kept up to 1 MiB (an MQTT message may be far longer), so that one
// always fits an answer (4 MiB on the emulator, 10 MiB on Spanner); a longer one is cut, and its
// error says so. BigQuery keeps as much.
inline constexpr std::size_t kMaxPayloadBytes = 1024 * 1024;

// A cell of a result: text, an INT64, a FLOAT64 (NaN and the infinities are text in Spanner's
// JSON), a TIMESTAMP; each 0 or "" for NULL or what is not one.
std::string TextOf(const nlohmann::json& cell);
std::int64_t IntegerOf(const nlohmann::json& cell);
double DoubleOf(const nlohmann::json& cell);
TimestampMicros InstantOf(const nlohmann::json& cell);
// A result as `query` prints it: timestamps as RFC 3339, doubles as the other engines print them.
QueryResult ForPeople(const ResultSet& rows);
// `status`, pointing to `bikestream setup` when a table or the database is missing.
absl::Status WithSetupHint(absl::Status status);
// A table or column name quoted for GoogleSQL: `name`.
std::string Quoted(std::string_view name);

class SpannerWarehouse final : public Warehouse {
 public:
  SpannerWarehouse(SpannerWarehouseOptions options, TableNames tables);

  // Creates the database (and, on the emulator, the instance) and the tables and indexes that
  // are missing; a table that is there with other columns is reported, never altered.
  absl::Status Setup() override;

  absl::StatusOr<CommitResult> Commit(const Batch& batch) override;
  int ConcurrentWriters() const override { return options_.emulator ? 1 : 4; }
  absl::StatusOr<CommitResult> ResolveDeadLetters(
      const std::vector<Event>& events, const std::vector<std::int64_t>& resolved_ids) override;

  absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override;
  absl::StatusOr<std::vector<DeadLetterCount>> CountDeadLetters(DurationMicros bucket,
                                                                TimePeriod period) override;
  absl::Status ScanEvents(TimestampMicros after,
                          const std::function<void(const Event&)>& visit) override;
  absl::StatusOr<std::optional<TimestampMicros>> LatestEventTime() override;
  absl::StatusOr<std::vector<StationTotals>> EventTotals(TimestampMicros through) override;

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

  absl::Status UpsertStations(const std::vector<Station>& stations) override;
  absl::StatusOr<std::vector<Station>> ListStations() override;
  absl::StatusOr<std::vector<ActivityBucket>> StationBuckets(std::string_view station_id,
                                                             TimePeriod period) override;
  absl::StatusOr<std::vector<StationActivity>> BusiestStations(TimePeriod period,
                                                               std::size_t limit) override;

 private:
  // schema.cc
  absl::Status CheckColumns();
  absl::StatusOr<bool> AnyMissing();
  // writes.cc: one transaction storing `events` (those not stored yet; at `offset` in the
  // batch, for result->newly_stored; none of `counted`, the ids earlier parts counted, counts
  // again) and `letters` (those not kept yet), deleting the dead letters `resolved_ids`, all
  // under `commit_id`.
  absl::Status WriteOnce(const std::string& commit_id, std::span<const Event> events,
                         std::size_t offset, std::set<std::string>& counted,
                         std::span<const DeadLetter> letters,
                         std::span<const std::int64_t> resolved_ids, CommitResult* result);
  absl::Status BufferDeadLetters(Transaction& t, std::span<const DeadLetter> letters);
  // feature_sql.cc
  absl::StatusOr<StoredFeatureCounts> CountStoredFeatures(
      const std::vector<TimestampMicros>& as_ofs, const std::vector<std::string>& names);
  absl::Status RunFeatureTransaction(const FeatureTransaction& transaction);
  absl::StatusOr<QueryResult> LabeledTrainingSet(const std::vector<std::string>& features,
                                                 const TrainingSetRequest::Labels& labels);
  // reads.cc: a read at a strong timestamp, its errors with the hint to run setup where a
  // table or the database is missing; and the largest instant of a column, if any.
  absl::StatusOr<ResultSet> Read(const std::string& sql, const Params& params = {});
  // Fills in the payloads of `letters`, read by key.
  absl::Status ReadPayloads(std::span<DeadLetter> letters);
  absl::StatusOr<std::optional<TimestampMicros>> MaxInstant(std::string_view column,
                                                            const std::string& table);
  absl::StatusOr<CommitResult> Write(const std::vector<Event>& events,
                                     const std::vector<DeadLetter>& letters,
                                     const std::vector<std::int64_t>& resolved_ids);

  SpannerWarehouseOptions options_;
  const TableNames tables_;
  Client client_;
  // The commit id of the last write that failed, and the first event id it held: a retry of the
  // same batch by this process writes under the same id, so that the part an earlier transaction
  // of it stored counts as new (docs/adr/0010).
  std::string failed_commit_id_;
  std::string failed_first_event_;
};

}  // namespace bikestream::spanner
