// BigQuery's commit (issue 36) on the tests' stand-in, which bills each statement by BigQuery's
// published rules and cancels a transaction that writes a table another running one writes,
// beside the design before it (each batch one transaction: the warehouse's
// transaction_per_batch) in the same run:
// - a sparse stream, one event a second, through one worker each: bytes billed an hour, and
//   each event's latency from its arrival to its commit;
// - a busy stream, four workers, each a streaming runner (job/streaming_runner.h) on a source
//   that always has more, with as many writers as its design takes (EventSink::
//   ConcurrentWriters): events committed a second, each message's latency from its receipt to
//   its acknowledgement, transactions cancelled; and the merged design's fraction of what the
//   project's 100,000 load jobs a day allow at that batch size.
// No BigQuery runs here: a transaction's duration is the stand-in's --transaction-ms, and
// docs/performance.md says which was used.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "bench/bench_events.h"
#include "bench/bench_util.h"
#include "job/streaming_runner.h"
#include "support/bigquery_sqlite.h"
#include "support/bigquery_stand_in.h"
#include "warehouse/bigquery/bigquery_warehouse.h"

namespace bikestream {
namespace {

using bench::Must;
using bench::Percentile;
using bench::Seconds;
using Steady = std::chrono::steady_clock;
using testing_support::BigQueryStandIn;

constexpr double kLoadJobsPerSecond = 100'000.0 / 86'400.0;  // A project's, all day.
constexpr auto kWarmUp = std::chrono::seconds(15);

struct Design {
  const char* name = "";
  bool transaction_per_batch = false;
  // The merges' spacing per load job (CommitGovernorOptions::load_job_spacing); nullopt: the
  // default, BigQuery's 100,000 load jobs a day.
  std::optional<DurationMicros> load_job_spacing;
};
constexpr Design kPerBatch{"transaction per batch", true, std::nullopt};

// A worker's warehouse on its own dataset of `stand_in`, its bill added to `billed`.
std::unique_ptr<Warehouse> Connect(BigQueryStandIn& stand_in, const std::string& dataset,
                                   const Design& design, std::atomic<std::int64_t>& billed) {
  BigQueryWarehouseOptions options{.dataset = dataset,
                                   .transaction_per_batch = design.transaction_per_batch};
  if (design.load_job_spacing) {
    options.commit.governor.load_job_spacing = *design.load_job_spacing;
  }
  options.client.endpoint = stand_in.url();
  options.client.project = "bench-project";
  auto opened = OpenBigQueryWarehouse(std::move(options), TableNames{});
  Must(opened.ok(), "open the warehouse on the stand-in");
  (*opened)->ObserveCosts([&billed](const StatementCost& cost) { billed += cost.bytes_billed; });
  return std::move(*opened);
}

struct Figures {
  // For the sparse stream: from the end of the first commit, whose merge runs at once (nothing
  // is known of the bill yet), so that the figures are the steady state's.
  double seconds = 0;
  std::uint64_t stored = 0;
  std::int64_t billed = 0;
  std::vector<double> latencies;  // Seconds.
  int failures = 0;
  int writers = 1;  // A busy worker's.
};

// One worker taking whatever arrived while its last commit ran (the runner's group commit),
// fed one event a second, for `seconds`.
Figures Sparse(BigQueryStandIn& stand_in, const Design& design, const std::string& dataset,
               double seconds) {
  std::atomic<std::int64_t> billed{0};
  auto warehouse = Connect(stand_in, dataset, design, billed);
  Must(warehouse->Setup().ok(), "setup");
  billed = 0;
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<std::pair<Event, Steady::time_point>> waiting;
  std::atomic<bool> done{false};
  const auto start = Steady::now();
  std::thread producer([&] {
    for (std::uint64_t i = 0; Seconds(start) < seconds; ++i) {
      {
        std::lock_guard lock(mutex);
        waiting.emplace_back(bench::NumberedEvent(dataset, i), Steady::now());
      }
      arrived.notify_one();
      std::this_thread::sleep_until(start + std::chrono::seconds(i + 1));
    }
    done = true;
    arrived.notify_one();
  });
  Figures figures;
  std::optional<Steady::time_point> warm;
  while (true) {
    std::vector<std::pair<Event, Steady::time_point>> taken;
    {
      std::unique_lock lock(mutex);
      arrived.wait(lock, [&] { return !waiting.empty() || done; });
      if (waiting.empty()) break;
      taken.swap(waiting);
    }
    Batch batch;
    for (const auto& [event, at] : taken) batch.events.push_back(event);
    auto committed = warehouse->Commit(batch);
    if (!committed.ok()) {
      ++figures.failures;
      std::lock_guard lock(mutex);  // Handed back, as the runner would.
      waiting.insert(waiting.begin(), taken.begin(), taken.end());
      continue;
    }
    if (!warm) {
      warm = Steady::now();
      billed = 0;
      continue;
    }
    figures.stored += committed->stored;
    for (const auto& [event, at] : taken) {
      figures.latencies.push_back(std::chrono::duration<double>(Steady::now() - at).count());
    }
  }
  producer.join();
  Must(warm.has_value(), "no commit in the sparse run");
  figures.seconds = Seconds(*warm);
  figures.billed = billed;
  return figures;
}

// A source that always has more for one busy worker: numbered events, every tenth block of
// `batch_size` its previous block again (redeliveries); what is handed back comes again. Keeps
// each message's latency from its receipt to its acknowledgement.
class BusySource final : public EventSource {
 public:
  BusySource(std::string prefix, std::size_t batch_size)
      : prefix_(std::move(prefix)), batch_size_(batch_size) {}

  std::string Name() const override { return "bench"; }

  absl::StatusOr<Received> Receive(std::size_t max_messages) override {
    std::lock_guard lock(mutex_);
    Received received;
    received.exhausted = stopped_;
    while (!stopped_ && received.messages.size() < max_messages) {
      std::uint64_t number;
      if (handed_back_.empty()) {
        number = NextNumber();
      } else {
        number = handed_back_.back();
        handed_back_.pop_back();
      }
      std::string ack_id = std::to_string(deliveries_++);
      outstanding_[ack_id] = {number, Steady::now()};
      received.messages.push_back(
          {.ack_id = std::move(ack_id), .payload = ToJson(bench::NumberedEvent(prefix_, number))});
    }
    return received;
  }

  absl::Status Ack(const std::vector<std::string>& ids) override {
    std::lock_guard lock(mutex_);
    const auto now = Steady::now();
    for (const std::string& id : ids) {
      auto it = outstanding_.find(id);
      latencies_.push_back(std::chrono::duration<double>(now - it->second.second).count());
      outstanding_.erase(it);
    }
    return absl::OkStatus();
  }

  absl::Status Nack(const std::vector<std::string>& ids, DurationMicros) override {
    std::lock_guard lock(mutex_);
    for (const std::string& id : ids) {
      auto it = outstanding_.find(id);
      handed_back_.push_back(it->second.first);
      outstanding_.erase(it);
    }
    return absl::OkStatus();
  }

  void StopReceiving() override {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }

  std::vector<double> TakeLatencies() {
    std::lock_guard lock(mutex_);
    return std::move(latencies_);
  }

 private:
  std::uint64_t NextNumber() {
    const std::uint64_t block = drawn_ / batch_size_;
    const std::uint64_t first = (block % 10 == 9 ? block - 1 : block) * batch_size_;
    return first + drawn_++ % batch_size_;
  }

  const std::string prefix_;
  const std::size_t batch_size_;
  std::mutex mutex_;
  std::uint64_t drawn_ = 0;
  std::uint64_t deliveries_ = 0;
  std::vector<std::uint64_t> handed_back_;
  std::map<std::string, std::pair<std::uint64_t, Steady::time_point>> outstanding_;
  std::vector<double> latencies_;
  bool stopped_ = false;
};

// `workers` streaming workers, each with `writers` writers (0: as many as the warehouse says
// help; and its own connection beside them), committing batches of `batch_size`: what they store in
// `seconds` after a warm-up of kWarmUp (their first merges, with nothing known of the bill), and
// the latencies and failures of the whole run.
Figures Busy(BigQueryStandIn& stand_in, const Design& design, const std::string& dataset,
             int workers, int writers, std::size_t batch_size, double seconds) {
  struct Worker {
    std::unique_ptr<Warehouse> warehouse;
    std::vector<std::unique_ptr<Warehouse>> writers;
    std::unique_ptr<BusySource> source;
    StreamingOptions options;
    JobControl control;
    JobMetrics metrics;
  };
  std::atomic<std::int64_t> billed{0};
  std::vector<std::unique_ptr<Worker>> pool;
  for (int w = 0; w < workers; ++w) {
    auto& worker = *pool.emplace_back(std::make_unique<Worker>());
    worker.warehouse = Connect(stand_in, dataset, design, billed);
    if (writers == 0) writers = worker.warehouse->ConcurrentWriters();
    for (int i = 0; writers > 1 && i < writers; ++i) {
      worker.writers.push_back(Connect(stand_in, dataset, design, billed));
      worker.options.concurrent_writers.push_back(worker.writers.back().get());
    }
    worker.source = std::make_unique<BusySource>(fmt::format("{}-w{}", dataset, w), batch_size);
    worker.options.batch_size = batch_size;
    worker.options.max_outstanding_messages = batch_size * std::size_t(writers + 1);
    worker.options.max_outstanding_bytes = std::size_t{1} << 30;
  }
  Must(pool[0]->warehouse->Setup().ok(), "setup");
  const auto stored = [&pool] {
    std::uint64_t sum = 0;
    for (auto& worker : pool) sum += worker->metrics.stored;
    return sum;
  };
  std::vector<std::thread> threads;
  threads.reserve(pool.size());
  for (auto& worker : pool) {
    threads.emplace_back([&worker = *worker] {
      Must(RunStreaming(*worker.source, *worker.warehouse, worker.options, worker.control,
                        worker.metrics)
               .ok(),
           "the streaming job failed");
    });
  }
  std::this_thread::sleep_for(kWarmUp);
  const auto start = Steady::now();
  const std::uint64_t stored_before = stored();
  billed = 0;
  std::this_thread::sleep_until(start + std::chrono::duration<double>(seconds));
  Figures figures{.seconds = Seconds(start),
                  .stored = stored() - stored_before,
                  .billed = billed,
                  .writers = writers};
  for (auto& worker : pool) worker->control.RequestDrain();
  for (auto& thread : threads) thread.join();
  for (auto& worker : pool) {
    auto latencies = worker->source->TakeLatencies();
    figures.latencies.insert(figures.latencies.end(), latencies.begin(), latencies.end());
    figures.failures += int(worker->metrics.commit_failures);
  }
  return figures;
}

std::string Latency(const Figures& f) {
  if (f.latencies.empty()) return "none";
  return fmt::format("p50 {:.2f} s, p99 {:.2f} s", Percentile(f.latencies, 0.5),
                     Percentile(f.latencies, 0.99));
}

int Run(int argc, char** argv) {
  CLI::App app{"bigquery_bench: the staged, merged commit beside a transaction per batch"};
  int transaction_ms = 2000;
  double sparse_seconds = 600;
  double busy_seconds = 60;
  std::size_t batch_size = 10'000;
  int workers = 4;
  std::optional<int> merged_writers;
  int per_batch_writers = 1;
  std::optional<int> load_job_spacing_ms;
  app.add_option("--transaction-ms", transaction_ms,
                 "How long the stand-in's transactions run (BigQuery's take seconds)")
      ->capture_default_str();
  app.add_option("--sparse-seconds", sparse_seconds, "Length of the 1 event/s stream")
      ->capture_default_str();
  app.add_option("--busy-seconds", busy_seconds, "Length of each busy run")->capture_default_str();
  app.add_option("--batch", batch_size, "Events per batch in the busy runs")->capture_default_str();
  app.add_option("--workers", workers, "Workers in the busy runs")->capture_default_str();
  app.add_option("--merged-writers", merged_writers,
                 "Writers of each merged worker (default: the warehouse's ConcurrentWriters; a "
                 "transaction per batch takes one)");
  app.add_option("--per-batch-writers", per_batch_writers,
                 "Writers of each transaction-per-batch worker (more are only cancelled more)")
      ->capture_default_str();
  app.add_option("--load-job-spacing-ms", load_job_spacing_ms,
                 "The merges' spacing per load job (default: 864, BigQuery's 100,000 load jobs a "
                 "day; 0 shows what the merged design does where staging had no such quota)");
  CLI11_PARSE(app, argc, argv);
  const Design merged{"staged, merged", false,
                      load_job_spacing_ms
                          ? std::optional<DurationMicros>(*load_job_spacing_ms * kMicrosPerMilli)
                          : std::nullopt};

  BigQueryStandIn stand_in(
      {.project = "bench-project", .transaction_time = std::chrono::milliseconds(transaction_ms)},
      std::make_unique<testing_support::BigQuerySqliteEngine>());
  fmt::print(
      "stand-in transactions take {} ms; a batch waits at most 90 s for its merge (the "
      "default); merges spaced {} ms a load job{}\n\n",
      transaction_ms, load_job_spacing_ms.value_or(864),
      load_job_spacing_ms ? " (not the default: BigQuery's quota is not kept)" : " (the default)");
  std::fflush(stdout);

  fmt::print(
      "sparse: 1 event/s for {:.0f} s, one worker each, side by side; figures from the end of "
      "the first commit\n",
      sparse_seconds);
  Figures sparse[2];
  {
    std::thread per_batch(
        [&] { sparse[1] = Sparse(stand_in, kPerBatch, "sparse_per_batch", sparse_seconds); });
    sparse[0] = Sparse(stand_in, merged, "sparse_merged", sparse_seconds);
    per_batch.join();
  }
  for (int d = 0; d < 2; ++d) {
    const Figures& f = sparse[d];
    Must(f.failures == 0, fmt::format("{} commits failed", f.failures));
    fmt::print("  {:<22} {:>6} events, {:>8.2f} GB billed an hour, latency {}\n",
               d == 0 ? merged.name : kPerBatch.name, f.stored,
               double(f.billed) * 3600.0 / f.seconds / 1e9, Latency(f));
  }
  const double cost_ratio = (double(sparse[1].billed) / sparse[1].seconds) /
                            (double(sparse[0].billed) / sparse[0].seconds);
  fmt::print("  bytes billed an hour: {:.1f}x fewer merged (target >= 20x)\n\n", cost_ratio);
  std::fflush(stdout);

  fmt::print(
      "busy: {} streaming workers, batches of {} events, each design for {:.0f} s after {} s "
      "of warm-up\n",
      workers, batch_size, busy_seconds, kWarmUp.count());
  Figures busy[2];
  int cancelled[2] = {0, 0};
  for (int d = 0; d < 2; ++d) {
    const int before = stand_in.cancelled_for_concurrent_update();
    busy[d] = Busy(stand_in, d == 0 ? merged : kPerBatch, d == 0 ? "busy_merged" : "busy_per_batch",
                   workers, d == 0 ? merged_writers.value_or(0) : per_batch_writers, batch_size,
                   busy_seconds);
    cancelled[d] = stand_in.cancelled_for_concurrent_update() - before;
  }
  for (int d = 0; d < 2; ++d) {
    const Figures& f = busy[d];
    fmt::print(
        "  {:<22} {:>8.0f} events/s, {} writer(s) a worker, latency to ack {}, {} cancelled, {} "
        "failed, {:.0f} bytes billed an event\n",
        d == 0 ? merged.name : kPerBatch.name, double(f.stored) / f.seconds, f.writers, Latency(f),
        cancelled[d], f.failures, f.stored ? double(f.billed) / double(f.stored) : 0.0);
  }
  const double speedup =
      (double(busy[0].stored) / busy[0].seconds) / (double(busy[1].stored) / busy[1].seconds);
  const double quota_ceiling = kLoadJobsPerSecond * double(batch_size);
  fmt::print(
      "  events/s: {:.1f}x merged (target >= 4x); merged is {:.2f} of the {:.0f} events/s "
      "that 100,000 load jobs a day allow at this batch size\n",
      speedup, double(busy[0].stored) / busy[0].seconds / quota_ceiling, quota_ceiling);
  Must(stand_in.invalid_requests() == 0, "a request broke BigQuery's published schema");
  return 0;
}

}  // namespace
}  // namespace bikestream

int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  return bikestream::Run(argc, argv);
}
