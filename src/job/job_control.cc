#include "job/job_control.h"

#include <fmt/format.h>

namespace bikestream {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kRunning: return "RUNNING";
    case JobState::kDraining: return "DRAINING";
    case JobState::kDrained: return "DRAINED";
    case JobState::kCancelled: return "CANCELLED";
    case JobState::kFailed: return "FAILED";
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

std::string PrometheusText(const JobMetrics& m, JobState state) {
  std::string text;
  auto counter = [&](const char* name, const char* help, std::uint64_t value) {
    text += fmt::format("# HELP bikestream_{0} {1}\n# TYPE bikestream_{0} counter\nbikestream_{0} {2}\n",
                        name, help, value);
  };
  counter("received_total", "Messages received.", m.received);
  counter("stored_total", "Events stored for the first time.", m.stored);
  counter("duplicates_total", "Events already stored (redeliveries, duplicates).", m.duplicates);
  counter("dead_lettered_total", "Messages written to dead_letter.", m.dead_lettered);
  counter("acks_total", "Messages acknowledged after their commit.", m.acks);
  counter("nacks_total", "Messages handed back for redelivery.", m.nacks);
  counter("commit_failures_total", "Warehouse commits that failed and were retried.", m.commit_failures);
  counter("feature_ticks_written_total", "Ticks of streaming features written (rewrites included).",
          m.feature_ticks_written);
  counter("features_too_late_total",
          "Events older than the allowed lateness: counted only in ticks still to come.",
          m.features_too_late);
  text += fmt::format("# HELP bikestream_in_flight Messages received and not yet acknowledged.\n"
                      "# TYPE bikestream_in_flight gauge\nbikestream_in_flight {}\n",
                      m.in_flight.load());
  text += "# HELP bikestream_job_state 1 for the job's current state.\n# TYPE bikestream_job_state gauge\n";
  for (JobState s : {JobState::kRunning, JobState::kDraining, JobState::kDrained,
                     JobState::kCancelled, JobState::kFailed}) {
    text += fmt::format("bikestream_job_state{{state=\"{}\"}} {}\n", JobStateName(s), s == state ? 1 : 0);
  }
  text += "# HELP bikestream_publish_to_commit_seconds From publish to durable commit.\n"
          "# TYPE bikestream_publish_to_commit_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += m.latency_buckets[i];
    text += fmt::format("bikestream_publish_to_commit_seconds_bucket{{le=\"{}\"}} {}\n",
                        kLatencyBuckets[i], cumulative);
  }
  cumulative += m.latency_buckets[kLatencyBuckets.size()];
  text += fmt::format("bikestream_publish_to_commit_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  text += fmt::format("bikestream_publish_to_commit_seconds_sum {}\n", m.latency_sum.load());
  text += fmt::format("bikestream_publish_to_commit_seconds_count {}\n", m.latency_count.load());
  return text;
}

}  // namespace bikestream
