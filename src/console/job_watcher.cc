#include "console/job_watcher.h"

#include <fmt/format.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/mutex.h"
#include "job/admin_client.h"
#include "job/job_control.h"

namespace bikestream {
namespace {

using json = nlohmann::ordered_json;

constexpr std::chrono::seconds kAdminTimeout(2);

struct Answer {
  int status = 0;  // 0: no answer.
  std::string body;
  std::string problem;
};

// One request to a job's admin endpoint, with why it got no answer for the page.
Answer Ask(const JobRecord& job, const std::string& token, bool post, const std::string& path) {
  httplib::Result result = AskJob(job, token, post, path, kAdminTimeout);
  if (!result) {
    return Answer{.problem = fmt::format("no answer at {}: {}", job.admin,
                                         WhyNoAnswer(result.error(), kAdminTimeout))};
  }
  if (result->status == 401) {
    return Answer{result->status, result->body,
                  "its admin endpoint needs a token: start the console with --admin-token"};
  }
  return Answer{result->status, result->body, ""};
}

std::uint64_t Counter(const json& job, const char* name) {
  const auto field = job.find(name);
  return field != job.end() && field->is_number_unsigned() ? field->get<std::uint64_t>() : 0;
}

JobSample SampleOf(const json& job, TimestampMicros at) {
  JobSample sample{at,
                   Counter(job, "received"),
                   Counter(job, "stored"),
                   Counter(job, "duplicates"),
                   Counter(job, "dead_lettered"),
                   Counter(job, "in_flight"),
                   {}};
  if (const auto latency = job.find("latency"); latency != job.end() && latency->is_object()) {
    for (const auto& count : latency->value("counts", json::array())) {
      sample.latency_counts.push_back(count.is_number_unsigned() ? count.get<std::uint64_t>() : 0);
    }
  }
  return sample;
}

// Per second between consecutive samples: one point per interval.
json Rates(const std::deque<JobSample>& samples) {
  json t = json::array(), received = json::array(), stored = json::array(),
       duplicates = json::array(), dead_lettered = json::array();
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const JobSample& a = samples[i - 1];
    const JobSample& b = samples[i];
    const double seconds = static_cast<double>(b.at - a.at) / kMicrosPerSecond;
    auto rate = [seconds](std::uint64_t from, std::uint64_t to) {
      return to >= from ? double(to - from) / seconds : 0.0;
    };
    t.push_back(static_cast<double>(b.at) / kMicrosPerSecond);
    received.push_back(rate(a.received, b.received));
    stored.push_back(rate(a.stored, b.stored));
    duplicates.push_back(rate(a.duplicates, b.duplicates));
    dead_lettered.push_back(rate(a.dead_lettered, b.dead_lettered));
  }
  return {{"t", t},
          {"received", received},
          {"stored", stored},
          {"duplicates", duplicates},
          {"dead_lettered", dead_lettered}};
}

json LatencyJson(const std::deque<JobSample>& samples) {
  const WindowLatency latency = LatencyOver(samples);
  auto seconds = [](const std::optional<double>& value) { return value ? json(*value) : json(); };
  return {{"p50_seconds", seconds(latency.p50)},
          {"p99_seconds", seconds(latency.p99)},
          {"messages", latency.messages},
          {"since_start", latency.since_start}};
}

}  // namespace

std::optional<double> LatencyQuantile(const std::vector<std::uint64_t>& counts, double q) {
  std::uint64_t total = 0;
  for (std::uint64_t count : counts) total += count;
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  double below = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0 || below + static_cast<double>(counts[i]) < rank) {
      below += static_cast<double>(counts[i]);
      continue;
    }
    if (i >= kLatencyBuckets.size())
      return kLatencyBuckets.back();  // +Inf: the largest bound, as Prometheus.
    const double lower = i == 0 ? 0 : kLatencyBuckets[i - 1];
    return lower + (kLatencyBuckets[i] - lower) * (rank - below) / static_cast<double>(counts[i]);
  }
  return kLatencyBuckets.back();
}

WindowLatency LatencyOver(const std::deque<JobSample>& samples) {
  WindowLatency latency;
  if (samples.empty()) return latency;
  std::vector<std::uint64_t> counts = samples.back().latency_counts;
  const std::vector<std::uint64_t>& before = samples.front().latency_counts;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] -= i < before.size() && before[i] <= counts[i] ? before[i] : 0;
    latency.messages += counts[i];
  }
  if (latency.messages == 0) {
    counts = samples.back().latency_counts;
    for (std::uint64_t count : counts) latency.messages += count;
    latency.since_start = true;
  }
  latency.p50 = LatencyQuantile(counts, 0.5);
  latency.p99 = LatencyQuantile(counts, 0.99);
  return latency;
}

JobWatcher::JobWatcher(JobWatcherOptions options)
    : options_(std::move(options)), clock_(options_.clock ? *options_.clock : SystemClock()) {}

JobWatcher::~JobWatcher() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void JobWatcher::Start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      Sample();
      clock_.SleepFor(options_.interval, [&stop] { return stop.stop_requested(); });
    }
  });
}

void JobWatcher::Sample() {
  // One look at a time (the thread's, and one after an action): a slower one must not land last.
  MutexLock sampling(&sample_mutex_);
  JobRegistry registry(options_.state_dir, [](const std::string&) {});
  const std::vector<JobRecord> running = registry.List();
  const std::vector<JobRecord> ended = registry.Ended();
  std::vector<std::pair<JobRecord, Answer>> answers;
  answers.reserve(running.size());
  for (const JobRecord& job : running)
    answers.emplace_back(job, Ask(job, options_.admin_token, false, "/job"));
  const TimestampMicros now = clock_.Now();

  MutexLock lock(&mutex_);
  for (auto& [record, answer] : answers) {
    Watched& job = jobs_[record.id];
    job.record = record;
    job.problem = answer.problem;
    if (answer.status != 200) {
      job.state = "UNKNOWN";
      if (job.problem.empty())
        job.problem = fmt::format("its admin endpoint answered {}", answer.status);
      continue;
    }
    const json body = json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) {
      job.state = "UNKNOWN";
      job.problem = "its admin endpoint's /job is not JSON";
      continue;
    }
    const auto state = body.find("state");
    job.state = state != body.end() && state->is_string() ? state->get<std::string>() : "UNKNOWN";
    // A look soon after the last (after a drain, say) replaces it: rates need time between samples.
    if (!job.samples.empty() && now - job.samples.back().at < options_.interval / 2)
      job.samples.pop_back();
    job.samples.push_back(SampleOf(body, now));
    while (job.samples.size() > 1 && now - job.samples.front().at > options_.history)
      job.samples.pop_front();
  }
  for (const JobRecord& record : ended) {
    Watched& job = jobs_[record.id];
    job.record = record;
    job.state = record.state;
    job.problem.clear();
  }
  // A job neither running nor among the ended ones was killed (kill -9), or ended over a day ago:
  // shown while its samples are kept, then forgotten.
  for (auto entry = jobs_.begin(); entry != jobs_.end();) {
    const auto named = [&id = entry->first](const JobRecord& r) { return r.id == id; };
    Watched& job = entry->second;
    if (std::any_of(running.begin(), running.end(), named) ||
        std::any_of(ended.begin(), ended.end(), named)) {
      ++entry;
    } else if (job.samples.empty() || now - job.samples.back().at > options_.history) {
      entry = jobs_.erase(entry);
    } else {
      job.state = "GONE";
      job.problem = "its process ended without saying how (killed?)";
      ++entry;
    }
  }
}

ApiReply JobWatcher::Jobs() {
  MutexLock lock(&mutex_);
  json list = json::array();
  for (const auto& [id, job] : jobs_) {
    JobSample latest = job.samples.empty() ? JobSample{} : job.samples.back();
    if (const auto& totals = job.record.totals) {  // Ended: its own last word.
      latest = JobSample{.received = totals->received,
                         .stored = totals->stored,
                         .duplicates = totals->duplicates,
                         .dead_lettered = totals->dead_lettered};
    }
    list.push_back({{"id", id},
                    {"state", job.state},
                    {"problem", job.problem.empty() ? json() : json(job.problem)},
                    {"source", job.record.source},
                    {"warehouse", job.record.warehouse},
                    {"this_warehouse",
                     !options_.warehouse.empty() && job.record.warehouse == options_.warehouse},
                    {"started", job.record.started},
                    {"ended", job.record.ended.empty() ? json() : json(job.record.ended)},
                    {"admin", job.record.admin},
                    {"received", latest.received},
                    {"stored", latest.stored},
                    {"duplicates", latest.duplicates},
                    {"dead_lettered", latest.dead_lettered},
                    {"in_flight", latest.in_flight},
                    {"rates", Rates(job.samples)},
                    {"latency", LatencyJson(job.samples)}});
  }
  return ApiReply{200, json({{"interval_seconds", double(options_.interval) / kMicrosPerSecond},
                             {"jobs", list}})
                           .dump()};
}

ApiReply JobWatcher::Act(std::string_view id, std::string_view action) {
  auto error = [](int status, const std::string& what) {
    return ApiReply{status, json({{"error", what}}).dump()};
  };
  if (action != "drain" && action != "cancel")
    return error(404, "the actions are drain and cancel");
  if (id.empty()) return error(400, "give ?job=ID (the ids are in /api/jobs)");
  auto job = JobRegistry(options_.state_dir, [](const std::string&) {}).Find(std::string(id));
  if (!job.ok()) return error(404, std::string(job.status().message()));
  const Answer answer = Ask(*job, options_.admin_token, true, "/" + std::string(action));
  if (answer.status == 0 || answer.status == 401) return error(503, answer.problem);
  Sample();  // So that the next look shows DRAINING or CANCELLED.
  return ApiReply{answer.status, answer.body};
}

}  // namespace bikestream
