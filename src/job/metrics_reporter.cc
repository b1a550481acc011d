#include "job/metrics_reporter.h"

#include <condition_variable>
#include <mutex>

namespace bikestream {

IngestStats Snapshot(const JobMetrics& m) {
  return IngestStats{.received = m.received,
                     .stored = m.stored,
                     .duplicates = m.duplicates,
                     .dead_lettered = m.dead_lettered,
                     .commits = m.commits};
}

MetricsReporter::MetricsReporter(const JobMetrics& metrics, Report report,
                                 std::chrono::milliseconds interval)
    : metrics_(metrics), report_(std::move(report)) {
  if (!report_) return;
  thread_ = std::jthread([this, interval](const std::stop_token& stop) {
    std::mutex mutex;
    std::condition_variable_any sleeper;
    std::unique_lock lock(mutex);
    while (!sleeper.wait_for(lock, stop, interval, [] { return false; })) {
      if (stop.stop_requested()) return;
      report_(Snapshot(metrics_));
    }
  });
}

MetricsReporter::~MetricsReporter() {
  if (!report_) return;
  thread_.request_stop();
  thread_.join();
  report_(Snapshot(metrics_));
}

}  // namespace bikestream
