// The `gbfs` job: snapshots from a feed become events, handed on. Before each hand-off the
// detector's state is saved with the events being handed on, which a restart hands on again
// (and with every event handed on before them durable, where the next stage batches them):
// so a restart (kill -9 included) repeats a change with its id, which ingest's dedup absorbs, or
// had never seen it; never a burst of false changes from a fresh baseline, never a change lost
// across the gap, never a net change derived twice under two ids.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/file.h"
#include "common/retry.h"
#include "event/event.h"
#include "gbfs/change_detector.h"
#include "gbfs/feed.h"

namespace bikestream::gbfs {

// Returns once the events are with the next stage for good (written to stdout, acknowledged by
// the broker), or staged there for its next flush (PollerOptions::flush); an error leaves them
// to be handed on again.
using HandOff = std::function<absl::Status(const std::vector<Event>& events)>;

struct PollerStats {
  std::uint64_t snapshots = 0;         // Read and handed on.
  std::uint64_t resent = 0;            // Changes of the last run handed on again at the start.
  std::uint64_t bad_snapshots = 0;     // Could not be fetched or read.
  std::uint64_t station_problems = 0;  // Stations left out of a snapshot.
  std::uint64_t pickups = 0;
  std::uint64_t dropoffs = 0;
  std::uint64_t events() const { return pickups + dropoffs; }
};

struct PollerOptions {
  std::string state_path;  // Where the state is kept; "" keeps none (each start is a baseline).
  // Save the state at most this often. Default: 0, before every hand-off, as a live feed needs
  // (its past snapshots cannot be read again). A recorded file, which a restart reads again
  // from the start, can save less often: the re-read re-derives the rest with the same ids.
  DurationMicros state_interval = 0;
  // For a next stage that commits in batches, whose hand-off only stages the events: makes
  // every event handed on durable. Called before each state save and at the end of Run,
  // retried like a hand-off. Default: none (each hand-off is durable when it returns).
  std::function<absl::Status()> flush;
  // A failed hand-off (or flush) is retried, the same events, with this backoff until it
  // succeeds or the job stops. Default: 100 ms doubling to 10 s, jittered.
  RetryPolicy hand_off_retry;
  // Each problem, one line: a snapshot that could not be read, a station left out of one, a
  // hand-off that failed. Default: stderr.
  std::function<void(const std::string& line)> report;
  // After each snapshot handed on, with its events and the totals so far (for progress).
  // Optional.
  std::function<void(const StationStatus& snapshot, std::size_t events, const PollerStats& totals)>
      on_snapshot;
};

class Poller {
 public:
  // Resumes from the state file when there is one (kInvalidArgument when it is not of
  // `system`, or not a state file). Holds STATE.lock while it lives: a second poller on the
  // same state file, which would undo the first's saves, is refused (kFailedPrecondition).
  static absl::StatusOr<Poller> Open(std::string system, HandOff hand_off, Clock& clock,
                                     PollerOptions options);

  // Hands on again the changes the last run may not have, then runs until the feed ends or
  // `stop()`; the state is saved on the way out. An error only when the state cannot be saved,
  // the feed ended on one (a truncated file), or is the wrong feed (kFailedPrecondition: a
  // station_information document where station_status goes), said once.
  absl::Status Run(SnapshotFeed& feed, const SnapshotFeed::Stop& stop);

  const PollerStats& stats() const { return stats_; }
  std::size_t stations() const { return detector_.stations(); }

 private:
  Poller(ChangeDetector::Resumed resumed, HandOff hand_off, Clock& clock, PollerOptions options);
  // False when the job stopped before the events could be handed on.
  bool HandOn(const std::vector<Event>& events, const SnapshotFeed::Stop& stop);
  // False when the job stopped before what was handed on could be made durable.
  bool Flushed(const SnapshotFeed::Stop& stop);
  // Calls `attempt` until it succeeds (true) or the job stops (false), reporting each failure
  // as `what` failed.
  bool Retried(const std::function<absl::Status()>& attempt, const std::string& what,
               const SnapshotFeed::Stop& stop);
  // A state file is kept and the interval since the last save has passed.
  bool StateDue() const;
  absl::Status SaveState(const std::vector<Event>& pending);

  ChangeDetector detector_;
  std::vector<Event> resumed_pending_;
  HandOff hand_off_;
  Clock& clock_;
  PollerOptions options_;
  PollerStats stats_;
  std::optional<TimestampMicros> saved_at_;
  std::optional<FileLock> state_lock_;
};

}  // namespace bikestream::gbfs
