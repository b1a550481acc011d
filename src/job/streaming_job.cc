#include "job/streaming_job.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "job/admin_server.h"
#include "job/job_registry.h"
#include "job/metrics_reporter.h"
#include "job/signals.h"

namespace bikestream {
namespace {

std::string JobJson(const JobRecord& record, const JobControl& control, const JobMetrics& m) {
  nlohmann::ordered_json job = {{"id", record.id},
                                {"state", JobStateName(control.state())},
                                {"pid", record.pid},
                                {"source", record.source},
                                {"warehouse", record.warehouse},
                                {"started", record.started},
                                {"admin", record.admin},
                                {"received", m.received.load()},
                                {"stored", m.stored.load()},
                                {"duplicates", m.duplicates.load()},
                                {"dead_lettered", m.dead_lettered.load()},
                                {"acks", m.acks.load()},
                                {"nacks", m.nacks.load()},
                                {"in_flight", m.in_flight.load()}};
  // The publish-to-commit histogram, so that a watcher can tell the latency of any period.
  nlohmann::ordered_json counts = nlohmann::json::array();
  for (const auto& count : m.latency_buckets) counts.push_back(count.load());
  job["latency"] = {{"bounds_seconds", kLatencyBuckets}, {"counts", counts}};
  return job.dump() + "\n";
}

}  // namespace

absl::StatusOr<StreamingJobResult> RunStreamingJob(EventSource& source, EventSink& sink,
                                                   const StreamingOptions& options,
                                                   const StreamingJobOptions& job) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  JobControl control;
  JobMetrics metrics;
  InstallJobSignalHandlers(&control);
  JobRecord record{.id = NewJobId(),
                   .pid = getpid(),
                   .source = source.Name(),
                   .warehouse = job.warehouse,
                   .started = FormatRfc3339(clock.Now() / kMicrosPerSecond * kMicrosPerSecond)};
  auto admin =
      AdminServer::Start({.address = job.admin, .job_id = record.id, .token = job.admin_token},
                         control, metrics, [&] { return JobJson(record, control, metrics); });
  if (!admin.ok()) return admin.status();
  record.admin = (*admin)->address();
  JobRegistry registry(job.state_dir);
  if (auto status = registry.Register(record); !status.ok()) return status;
  if (job.attach_metrics) job.attach_metrics(metrics);
  if (job.announce) {
    job.announce(fmt::format(
        "job {} streaming from {} into {}; admin http://{} (SIGTERM drains, Ctrl-C cancels)",
        record.id, record.source, record.warehouse, record.admin));
  }
  const TimestampMicros start = clock.Now();
  StreamingJobResult result;
  {
    MetricsReporter reporter(metrics, job.progress);
    result.error = RunStreaming(source, sink, options, control, metrics);
  }
  result.state = result.error.ok() ? control.state() : JobState::kFailed;
  registry.Unregister(record.id, JobStateName(result.state),
                      JobRecord::Totals{.received = metrics.received,
                                        .stored = metrics.stored,
                                        .duplicates = metrics.duplicates,
                                        .dead_lettered = metrics.dead_lettered});
  result.stats = Snapshot(metrics);
  result.seconds = double(clock.Now() - start) / kMicrosPerSecond;
  return result;
}

}  // namespace bikestream
