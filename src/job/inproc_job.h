// `bikestream run`: simulate → in-process broker → the streaming runner, in one process.
//
// A producer thread paces the simulator into the in-process broker (source/inproc_source.h);
// the calling thread runs the streaming runner on it. Memory stays flat whatever the count. A
// stop request ends production; what was produced is still ingested and committed before Run
// returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ingest/ingest_lines.h"
#include "ingest/ingestor.h"
#include "simulator/simulator.h"
#include "warehouse/event_sink.h"

namespace bikestream {

struct InprocJobOptions {
  std::optional<std::uint64_t> count;      // Stop after this many messages. Default: no limit.
  std::optional<double> duration_seconds;  // Stop after this wall time. Default: no limit.
  std::size_t queue_capacity = 16'384;     // Messages in flight. Default: 16,384.
  std::size_t batch_size = 50'000;         // Messages per commit. Default: 50,000.
  // Names the run in dead letters; a replay of the same run must give the same name.
  std::string source = "inproc";       // Default: inproc.
  CommitObserver* observer = nullptr;  // Told of each commit, e.g. streaming features.
};

struct InprocJobResult {
  IngestStats stats;
  SimulatorStats simulated;
  double seconds = 0;
};

// Runs until the count or duration is reached or `stop` becomes true; `progress` hears of it a
// few times a second and once at the end, from one thread. `simulator` and `sink`
// must outlive the call. A commit error ends the job and is returned.
absl::StatusOr<InprocJobResult> RunInprocJob(Simulator& simulator, EventSink& sink,
                                             const InprocJobOptions& options,
                                             const std::atomic<bool>& stop,
                                             const ProgressCallback& progress = nullptr);

}  // namespace bikestream
