#include "job/job_control.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace bikestream {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kDraining:
      return "DRAINING";
    case JobState::kDrained:
      return "DRAINED";
    case JobState::kCancelled:
      return "CANCELLED";
    case JobState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

void JobMetrics::ObserveLatency(double seconds) {
  std::size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  ++latency_buckets[bucket];
  ++latency_count;
  double sum = latency_sum.load();
  while (!latency_sum.compare_exchange_weak(sum, sum + seconds)) {
  }
}

std::string Unhealthy(const JobMetrics& metrics, JobState state) {
  if (state == JobState::kFailed) return "failed";
  if (const std::uint64_t failing = metrics.commit_failures_in_a_row; failing > 0) {
    return fmt::format("commits failing: the last {} in a row (the job's log says why)", failing);
  }
  return "";
}

std::string PrometheusText(const JobMetrics& m, JobState state) {
  // A registry of the values now: the metrics stay plain atomics on the hot path, and
  // prometheus-cpp writes the exposition format.
  prometheus::Registry registry;
  auto counter = [&](const std::string& name, const std::string& help, std::uint64_t value) {
    prometheus::BuildCounter()
        .Name("bikestream_" + name)
        .Help(help)
        .Register(registry)
        .Add({})
        .Increment(double(value));
  };
  counter("received_total", "Messages received.", m.received);
  counter("stored_total", "Events stored for the first time.", m.stored);
  counter("duplicates_total", "Events already stored (redeliveries, duplicates).", m.duplicates);
  counter("dead_lettered_total", "Messages written to dead_letter.", m.dead_lettered);
  counter("acks_total", "Messages acknowledged after their commit.", m.acks);
  counter("nacks_total", "Messages handed back for redelivery.", m.nacks);
  counter("commits_total", "Warehouse commits that succeeded.", m.commits);
  counter("commit_failures_total", "Warehouse commits that failed and were retried.",
          m.commit_failures);
  counter("feature_ticks_written_total", "Ticks of streaming features written (rewrites included).",
          m.feature_ticks_written);
  counter("features_too_late_total",
          "Events older than the allowed lateness: counted only in ticks still to come.",
          m.features_too_late);
  counter("feature_schedule_ticks_total",
          "Ticks the feature scheduler (features --every) computed.", m.scheduled_ticks);
  counter("feature_schedule_rows_total", "Rows of station_features those ticks wrote.",
          m.scheduled_rows);
  counter("feature_schedule_failures_total",
          "Ticks the feature scheduler failed to compute (each is retried).",
          m.scheduled_tick_failures);
  prometheus::BuildGauge()
      .Name("bikestream_feature_schedule_lag_seconds")
      .Help("From the latest scheduled tick's as_of to the commit of its rows.")
      .Register(registry)
      .Add({})
      .Set(m.scheduled_lag_seconds.load());
  counter("warehouse_bytes_processed_total",
          "Bytes the warehouse's statements processed (BigQuery).", m.warehouse_bytes_processed);
  counter("warehouse_bytes_billed_total",
          "Bytes the warehouse's statements were billed for (BigQuery).", m.warehouse_bytes_billed);
  const std::uint64_t stored = m.stored.load();
  prometheus::BuildGauge()
      .Name("bikestream_warehouse_bytes_billed_per_stored_event")
      .Help("Bytes billed over events stored so far (BigQuery: what the cost governor keeps low).")
      .Register(registry)
      .Add({})
      .Set(stored == 0 ? 0.0 : double(m.warehouse_bytes_billed.load()) / double(stored));
  prometheus::BuildGauge()
      .Name("bikestream_commit_failures_in_a_row")
      .Help(
          "Warehouse commits failed since the last that succeeded; /healthz is 503 while above 0.")
      .Register(registry)
      .Add({})
      .Set(double(m.commit_failures_in_a_row.load()));
  prometheus::BuildGauge()
      .Name("bikestream_in_flight")
      .Help("Messages received and not yet acknowledged.")
      .Register(registry)
      .Add({})
      .Set(double(m.in_flight.load()));
  auto& states = prometheus::BuildGauge()
                     .Name("bikestream_job_state")
                     .Help("1 for the job's current state.")
                     .Register(registry);
  for (JobState s : {JobState::kRunning, JobState::kDraining, JobState::kDrained,
                     JobState::kCancelled, JobState::kFailed}) {
    states.Add({{"state", std::string(JobStateName(s))}}).Set(s == state ? 1 : 0);
  }
  std::vector<double> increments;
  for (const auto& bucket : m.latency_buckets) increments.push_back(double(bucket.load()));
  prometheus::BuildHistogram()
      .Name("bikestream_publish_to_commit_seconds")
      .Help("From publish to durable commit.")
      .Register(registry)
      .Add({},
           prometheus::Histogram::BucketBoundaries(kLatencyBuckets.begin(), kLatencyBuckets.end()))
      .ObserveMultiple(increments, m.latency_sum.load());
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace bikestream
