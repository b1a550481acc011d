// Station reports become the notes' events: per station, between two reports with different
// last_reported times, a fall of the bikes available is a pickup and a rise a drop-off, its
// delta the size of the change, its time the later report's. A station's first report is its
// baseline. Only the net change between two reports is seen: a pickup and a drop-off in one
// interval cancel out.
//
// Event ids are derived from (system, station, report time), so that re-reading a snapshot, a
// restart from saved state, or two detectors side by side never mint a second id for one
// change. The state (each station's last report, and the changes of the latest snapshot, which
// may not have reached the next stage yet) saves to and loads from JSON, for --state.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"
#include "gbfs/station_status.h"

namespace bikestream::gbfs {

class ChangeDetector {
 public:
  // `system` names the bike-share system in event ids: [A-Za-z0-9_.-], e.g. "oslobysykkel".
  explicit ChangeDetector(std::string system) : system_(std::move(system)) {}

  // The events since each station's previous report, in the order of `status.stations`; the
  // reports become the new baseline. A report no newer than the one kept is ignored (a feed
  // serving an old snapshot again).
  std::vector<Event> Apply(const StationStatus& status);

  // The state as JSON, with `pending`: the changes that are being handed on as it is saved, so
  // that a restart hands them on again (with their ids: a repeat is absorbed downstream) rather
  // than lose them.
  std::string SaveState(const std::vector<Event>& pending = {}) const;
  struct Resumed;
  // A detector resumed from saved state, and the pending changes. A station whose saved report
  // no real one could follow — dated more than kMaxReportAhead past `now`, or counting bikes
  // out of range (state saved before such reports were refused) — is left out, to start again
  // from its next report, and named in `problems`: it would otherwise freeze the station for
  // good. kFailedPrecondition for the state of another system, which would mint other ids;
  // kInvalidArgument for anything that is not such a state (whatever its JSON holds, never an
  // exception).
  static absl::StatusOr<Resumed> LoadState(std::string system, std::string_view json,
                                           TimestampMicros now);

  std::size_t stations() const { return last_.size(); }

 private:
  struct Last {
    TimestampMicros reported = 0;
    std::int64_t bikes = 0;
  };

  std::string system_;
  std::map<std::string, Last, std::less<>> last_;
};

struct ChangeDetector::Resumed {
  ChangeDetector detector;
  std::vector<Event> pending;
  std::vector<std::string> problems;  // Stations left out, each with why.
};

// The id of the change a station reported at `reported`: "SYSTEM:STATION:SECONDS[.ffffff]".
std::string ChangeEventId(std::string_view system, std::string_view station_id,
                          TimestampMicros reported);

}  // namespace bikestream::gbfs
