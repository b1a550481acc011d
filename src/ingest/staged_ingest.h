// Events made in process, committed a batch at a time on a thread beside their maker: `gbfs
// --to warehouse` parses the next snapshots while the last batch commits.
//
// Delivery contract: Stage() returns once the events are staged; they are durable once a later
// Flush() has returned OK. A commit that fails in the background (or has rows refused) keeps
// its batch for the next Flush(), and the next Stage() runs that Flush() first: while it fails,
// Stage() stages nothing and says so, so the caller hands the same events again later and none
// is staged twice. Not
// thread-safe: one thread stages and flushes.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "event/event.h"
#include "ingest/ingestor.h"

namespace bikestream {

class StagedIngest {
 public:
  // `writer` commits each full batch on a thread of its own; `sink` commits, on the caller's
  // thread, what Flush() finds staged. Two connections to the same warehouse, which must
  // outlive this; they never commit at once. `options.concurrent_writers` is ignored.
  StagedIngest(EventSink& sink, EventSink& writer, IngestOptions options);

  absl::Status Stage(const std::vector<Event>& events);
  absl::Status Flush();

  // Events staged or committing: not yet known to be durable.
  std::size_t pending() const { return ingestor_.pending(); }
  const IngestStats& stats() const { return ingestor_.stats(); }

 private:
  Ingestor ingestor_;
  absl::Status failed_;  // The last background commit's failure, until a Flush() succeeds.
};

}  // namespace bikestream
