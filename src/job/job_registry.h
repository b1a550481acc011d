// A small registry of the streaming jobs running on this machine, so `bikestream jobs` and the
// console can find them: one JSON file per job in the state directory. When a job ends its file
// moves aside with the state it ended in, and stays a day, so that a person who drained a job
// can see that it reached DRAINED.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bikestream {

struct JobRecord {
  std::string id;  // e.g. 2026-11-24_01_49_40-3f9a1c
  int pid = 0;
  // When the process started (clock ticks after boot, /proc/PID/stat): with the pid, it names
  // the process even once the pid is reused. Filled in by Register().
  std::uint64_t pid_start = 0;
  std::string admin;   // HOST:PORT of its admin endpoint.
  std::string source;  // e.g. projects/p/subscriptions/s
  std::string warehouse;
  std::string started;  // RFC 3339.
  // For an ended job (JobRegistry::Ended): the state it ended in, e.g. DRAINED, and when.
  std::string state;
  std::string ended;  // RFC 3339.
  // For an ended job: what it had received and stored, when it ended.
  struct Totals {
    std::uint64_t received = 0, stored = 0, duplicates = 0, dead_lettered = 0;
  };
  std::optional<Totals> totals;
};

// $BIKESTREAM_STATE_DIR, else $XDG_STATE_HOME/bikestream, else ~/.local/state/bikestream.
std::filesystem::path DefaultStateDir();

// A new job id: the UTC start time, as Dataflow's, and a random suffix.
std::string NewJobId();

class JobRegistry {
 public:
  using Warn = std::function<void(const std::string&)>;
  // `warn` hears of entries that are skipped because they cannot be read. Default: stderr.
  explicit JobRegistry(const std::filesystem::path& state_dir, Warn warn = nullptr);

  absl::Status Register(const JobRecord& record);
  // Removes the job from the running ones; with `final_state`, keeps it among the ended ones,
  // with its `totals`.
  void Unregister(const std::string& id, std::string_view final_state = {},
                  std::optional<JobRecord::Totals> totals = std::nullopt);

  // The registered jobs whose process is still alive; the entries of ended processes (also
  // where another process has its pid now) are removed, unreadable ones skipped with a warning.
  std::vector<JobRecord> List();
  // A job by id or unique id prefix.
  absl::StatusOr<JobRecord> Find(const std::string& id);
  // The jobs that ended within the last day, newest first; older entries are removed.
  std::vector<JobRecord> Ended();

 private:
  static absl::StatusOr<JobRecord> ReadRecord(const std::filesystem::path& path);

  std::filesystem::path dir_;
  Warn warn_;
};

}  // namespace bikestream
