// Progress for a person while a job runs: a snapshot of the job's metrics, a few times a
// second, on a thread of its own.
#pragma once

#include <functional>
#include <thread>

#include "ingest/ingestor.h"
#include "job/job_control.h"

namespace bikestream {

// The counts of `metrics` as ingest statistics.
IngestStats Snapshot(const JobMetrics& metrics);

class MetricsReporter {
 public:
  using Report = std::function<void(const IngestStats&)>;

  // Calls `report` every `interval` until destroyed; `metrics` must outlive the reporter.
  // With no `report`, does nothing.
  MetricsReporter(const JobMetrics& metrics, Report report,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(250));
  ~MetricsReporter();  // Reports once more, so the last figures are shown.

 private:
  const JobMetrics& metrics_;
  Report report_;
  std::jthread thread_;
};

}  // namespace bikestream
