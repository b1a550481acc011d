#include "gbfs/poller.h"

#include <filesystem>
#include <system_error>

#include "common/file.h"
#include "common/limits.h"
#include "common/print.h"
#include "common/status.h"

namespace bikestream::gbfs {

namespace {

// Why the state file cannot be read, and what to do.
absl::Status Unreadable(const absl::Status& why) {
  return absl::Status(
      why.code(), fmt::format("--state: {}; give the file this poller saves its state in, or a new "
                              "path to start afresh",
                              MessageOf(why)));
}

// The detector as the state file left it, or a fresh one when there is none.
absl::StatusOr<ChangeDetector::Resumed> Resume(std::string system, const std::string& state_path,
                                               TimestampMicros now) {
  auto saved =
      state_path.empty() ? absl::NotFoundError("") : ReadWholeFile(state_path, limits::kStateFile);
  if (absl::IsNotFound(saved.status()))
    return ChangeDetector::Resumed{ChangeDetector(std::move(system)), {}};
  if (!saved.ok()) return Unreadable(saved.status());
  auto resumed = ChangeDetector::LoadState(std::move(system), *saved, now);
  if (!resumed.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("--state {}: {}{}", state_path, MessageOf(resumed.status()),
                    absl::IsFailedPrecondition(resumed.status())
                        ? ""
                        : " (damaged, or not written by bikestream gbfs: move it away to start "
                          "from a new baseline)"));
  }
  return resumed;
}

}  // namespace

absl::StatusOr<Poller> Poller::Open(std::string system, HandOff hand_off, Clock& clock,
                                    PollerOptions options) {
  if (!options.report)
    options.report = [](const std::string& line) { Print(stderr, "bikestream: gbfs: {}\n", line); };
  std::optional<FileLock> state_lock;
  if (!options.state_path.empty()) {
    // A link to the state and the state itself are one poller's: one lock, and a save replaces
    // the file the link names, not the link.
    options.state_path = ResolvedPath(options.state_path);
    // What is no file (/dev/zero, a FIFO) is refused before a lock is made beside it.
    std::error_code error;
    if (std::filesystem::exists(options.state_path, error) &&
        !std::filesystem::is_regular_file(options.state_path, error)) {
      return Unreadable(absl::UnavailableError(
          fmt::format("cannot read {}: not a regular file", options.state_path)));
    }
    auto lock = FileLock::TryAcquire(options.state_path + ".lock");
    if (absl::IsFailedPrecondition(lock.status())) {
      return absl::FailedPreconditionError(
          fmt::format("--state {0} is in use by another poller ({0}.lock is held): give each "
                      "poller a state file of its own",
                      options.state_path));
    }
    if (!lock.ok()) return lock.status();
    state_lock = std::move(*lock);
  }
  auto resumed = Resume(std::move(system), options.state_path, clock.Now());
  if (!resumed.ok()) return resumed.status();
  for (const std::string& problem : resumed->problems) options.report(problem);
  Poller poller(std::move(*resumed), std::move(hand_off), clock, std::move(options));
  poller.state_lock_ = std::move(state_lock);
  return poller;
}

Poller::Poller(ChangeDetector::Resumed resumed, HandOff hand_off, Clock& clock,
               PollerOptions options)
    : detector_(std::move(resumed.detector)),
      resumed_pending_(std::move(resumed.pending)),
      hand_off_(std::move(hand_off)),
      clock_(clock),
      options_(std::move(options)) {}

absl::Status Poller::Run(SnapshotFeed& feed, const SnapshotFeed::Stop& stop) {
  if (!resumed_pending_.empty()) {
    if (!HandOn(resumed_pending_, stop)) return absl::OkStatus();  // The state still holds them.
    stats_.resent += resumed_pending_.size();
    resumed_pending_.clear();
  }
  absl::Status saving;
  absl::Status wrong_feed;
  bool handed_on = true;
  absl::Status ended = feed.ForEachSnapshot(
      [&](absl::StatusOr<StationStatus> snapshot) {
        if (absl::IsFailedPrecondition(
                snapshot.status())) {  // The wrong feed: every snapshot would be.
          wrong_feed = snapshot.status();
          return false;
        }
        if (!snapshot.ok()) {
          ++stats_.bad_snapshots;
          options_.report(std::string(MessageOf(snapshot.status())));
          return true;
        }
        for (const std::string& problem : snapshot->problems) options_.report(problem);
        stats_.station_problems += snapshot->problems.size();
        if (snapshot->last_updated > clock_.Now() + kMaxReportAhead) {
          ++stats_.bad_snapshots;
          options_.report(fmt::format(
              "a snapshot of {} is dated in the future: left out (is the feed's clock wrong?)",
              FormatRfc3339(snapshot->last_updated)));
          return true;
        }
        const std::vector<Event> events = detector_.Apply(*snapshot);
        if (StateDue()) {
          handed_on = Flushed(stop);
          if (!handed_on) return false;
          saving = SaveState(events);
          if (!saving.ok()) return false;
        }
        handed_on = HandOn(events, stop);
        if (!handed_on) return false;
        ++stats_.snapshots;
        for (const Event& event : events)
          ++(event.kind == Kind::kPickup ? stats_.pickups : stats_.dropoffs);
        if (options_.on_snapshot) options_.on_snapshot(*snapshot, events.size(), stats_);
        return true;
      },
      stop);
  if (!saving.ok()) return saving;
  // Cut short by a stop, the last hand-off is in the state as pending (or, between saves of a
  // replay, not in it at all): either way the state on disk is what a restart needs.
  if (handed_on && Flushed(stop) && !options_.state_path.empty()) {
    if (auto saved = SaveState({}); !saved.ok()) return saved;
  }
  if (!wrong_feed.ok()) return wrong_feed;
  return ended;
}

bool Poller::HandOn(const std::vector<Event>& events, const SnapshotFeed::Stop& stop) {
  return Retried([&] { return hand_off_(events); }, fmt::format("hand on {} events", events.size()),
                 stop);
}

bool Poller::Flushed(const SnapshotFeed::Stop& stop) {
  if (!options_.flush) return true;
  return Retried(options_.flush, "commit the events handed on", stop);
}

bool Poller::Retried(const std::function<absl::Status()>& attempt, const std::string& what,
                     const SnapshotFeed::Stop& stop) {
  Backoff backoff(options_.hand_off_retry);
  for (;;) {
    absl::Status done = attempt();
    if (done.ok()) return true;
    if (stop()) return false;  // E.g. stdout closed: nowhere to hand them on to.
    options_.report(fmt::format("could not {}, trying again: {}", what, MessageOf(done)));
    clock_.SleepFor(backoff.NextDelay(), stop);
    if (stop()) return false;
  }
}

bool Poller::StateDue() const {
  if (options_.state_path.empty()) return false;
  return !saved_at_ || clock_.Now() - *saved_at_ >= options_.state_interval;
}

absl::Status Poller::SaveState(const std::vector<Event>& pending) {
  saved_at_ = clock_.Now();
  const std::string state = detector_.SaveState(pending);
  if (state.size() > limits::kStateFile) {  // No restart could read it back.
    return absl::ResourceExhaustedError(
        fmt::format("--state: {} stations need more than {}, more than a state file may hold: is "
                    "the feed's list of stations "
                    "growing without end?",
                    detector_.stations(), limits::BytesText(limits::kStateFile)));
  }
  if (auto saved = ReplaceFile(options_.state_path, state); !saved.ok()) {
    return absl::UnavailableError(fmt::format("--state: {}", MessageOf(saved)));
  }
  return absl::OkStatus();
}

}  // namespace bikestream::gbfs
