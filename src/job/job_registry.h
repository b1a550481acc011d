// A small registry of the streaming jobs running on this machine, so `bikestream jobs` can
// find them: one JSON file per job in the state directory, removed when the job ends.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace bikestream {

struct JobRecord {
  std::string id;        // e.g. 2026-11-24_01_49_40-3f9a1c
  int pid = 0;
  // When the process started (clock ticks after boot, /proc/PID/stat): with the pid, it names
  // the process even once the pid is reused. Filled in by Register().
  std::uint64_t pid_start = 0;
  std::string admin;     // HOST:PORT of its admin endpoint.
  std::string source;    // e.g. projects/p/subscriptions/s
  std::string warehouse;
  std::string started;   // RFC 3339.
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
  void Unregister(const std::string& id);

  // The registered jobs whose process is still alive; the entries of ended processes (also
  // where another process has its pid now) are removed, unreadable ones skipped with a warning.
  std::vector<JobRecord> List();
  // A job by id or unique id prefix.
  absl::StatusOr<JobRecord> Find(const std::string& id);

 private:
  std::filesystem::path dir_;
  Warn warn_;
};

}  // namespace bikestream
