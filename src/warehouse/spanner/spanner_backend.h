// The Spanner warehouse's class, private to this folder. Its methods are defined by
// responsibility: schema.cc (the database and tables, checked before use), dialect.cc (its SQL
// dialect), writes.cc (events and dead letters: one read-write transaction per batch,
// docs/adr/0010), reads.cc (dead letters and events read back).
//
// The roles it plays so far: events, dead letters and their history. It becomes a `Warehouse`,
// registered in warehouse.cc, when the feature store, the console's reads, the stations and SQL
// for a person are done (issue 34).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "warehouse/dead_letter_store.h"
#include "warehouse/event_history.h"
#include "warehouse/event_sink.h"
#include "warehouse/spanner/client.h"
#include "warehouse/sql/sql_dialect.h"
#include "warehouse/warehouse.h"

namespace bikestream::spanner {

// GoogleSQL on Spanner, for the queries the SQL engines share (dialect.cc): parameter n is
// @p<n>, InstantParameter(n, ...) its value.
const SqlDialect& Dialect();
std::pair<std::string, Value> InstantParameter(int n, TimestampMicros instant);

struct SpannerWarehouseOptions {
  ClientOptions client;   // endpoint, project, instance, database, credentials.
  bool emulator = false;  // The emulator: Setup creates the instance too (free there).
  // Events per read-write transaction: Spanner takes at most 80,000 mutations a commit, and an
  // event is about ten (its columns and its index's).
  std::size_t max_events_per_transaction = 5'000;
};

class SpannerWarehouse final : public EventSink, public DeadLetterStore, public EventHistory {
 public:
  SpannerWarehouse(SpannerWarehouseOptions options, TableNames tables);

  // Creates the database (and, on the emulator, the instance) and the tables and indexes that
  // are missing; a table that is there with other columns is reported, never altered.
  absl::Status Setup();

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

 private:
  // schema.cc
  absl::Status CheckColumns();
  // writes.cc: one transaction storing `events` (those not stored yet; at `offset` in the
  // batch, for result->newly_stored; none of `counted`, the ids earlier parts counted, counts
  // again) and `letters` (those not kept yet), deleting the dead letters `resolved_ids`, all
  // under `commit_id`.
  absl::Status WriteOnce(const std::string& commit_id, std::span<const Event> events,
                         std::size_t offset, std::set<std::string>& counted,
                         const std::vector<DeadLetter>& letters,
                         const std::vector<std::int64_t>& resolved_ids, CommitResult* result);
  absl::Status BufferDeadLetters(Transaction& t, const std::vector<DeadLetter>& letters);
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
