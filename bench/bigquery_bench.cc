// BigQuery's commit (issue 36) on the tests' stand-in, which bills each statement by BigQuery's
// published rules and cancels a transaction that writes a table another running one writes,
// beside the design before it (each batch one transaction: the warehouse's
// transaction_per_batch) in the same run:
// - a sparse stream, one event a second, through one worker each: bytes billed an hour, and
//   each event's latency from its arrival to its commit;
// - a busy stream, four workers each committing batches as fast as they are taken: events
//   committed a second, each commit's latency, transactions cancelled; and the merged design's
//   fraction of what the project's 100,000 load jobs a day allow at that batch size.
// No BigQuery runs here: a transaction's duration is the stand-in's --transaction-ms, and
// docs/performance.md says which was used.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "bench/bench_events.h"
#include "bench/bench_util.h"
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

struct Design {
  const char* name;
  bool transaction_per_batch;
};
constexpr Design kMerged{"staged, merged", false};
constexpr Design kPerBatch{"transaction per batch", true};

// A worker's warehouse on its own dataset of `stand_in`, its bill added to `billed`.
std::unique_ptr<Warehouse> Worker(BigQueryStandIn& stand_in, const std::string& dataset,
                                  const Design& design, std::atomic<std::int64_t>& billed) {
  BigQueryWarehouseOptions options{.dataset = dataset,
                                   .transaction_per_batch = design.transaction_per_batch};
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
};

// One worker taking whatever arrived while its last commit ran (the runner's group commit),
// fed one event a second, for `seconds`.
Figures Sparse(BigQueryStandIn& stand_in, const Design& design, const std::string& dataset,
               double seconds) {
  std::atomic<std::int64_t> billed{0};
  auto warehouse = Worker(stand_in, dataset, design, billed);
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

// `workers` workers each committing batches of `batch_size` new events, back to back, for
// `seconds`; every tenth batch holds its worker's previous batch again (a redelivery).
Figures Busy(BigQueryStandIn& stand_in, const Design& design, const std::string& dataset,
             int workers, std::size_t batch_size, double seconds) {
  std::atomic<std::int64_t> billed{0};
  std::vector<std::unique_ptr<Warehouse>> warehouses;
  warehouses.reserve(std::size_t(workers));
  for (int w = 0; w < workers; ++w) warehouses.push_back(Worker(stand_in, dataset, design, billed));
  Must(warehouses[0]->Setup().ok(), "setup");
  billed = 0;
  std::atomic<std::uint64_t> stored{0};
  std::atomic<int> failures{0};
  std::mutex mutex;
  std::vector<double> latencies;
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  threads.reserve(std::size_t(workers));
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      const std::string prefix = fmt::format("{}-w{}", dataset, w);
      for (std::uint64_t b = 0; Seconds(start) < seconds; ++b) {
        Batch batch;
        const std::uint64_t first = (b % 10 == 9 ? b - 1 : b) * batch_size;
        for (std::uint64_t i = first; i < first + batch_size; ++i)
          batch.events.push_back(bench::NumberedEvent(prefix, i));
        const auto began = Steady::now();
        auto committed = warehouses[std::size_t(w)]->Commit(batch);
        if (!committed.ok()) {
          ++failures;
          continue;
        }
        stored += committed->stored;
        std::lock_guard lock(mutex);
        latencies.push_back(Seconds(began));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return Figures{.seconds = Seconds(start),
                 .stored = stored,
                 .billed = billed,
                 .latencies = std::move(latencies),
                 .failures = failures};
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
  app.add_option("--transaction-ms", transaction_ms,
                 "How long the stand-in's transactions run (BigQuery's take seconds)")
      ->capture_default_str();
  app.add_option("--sparse-seconds", sparse_seconds, "Length of the 1 event/s stream")
      ->capture_default_str();
  app.add_option("--busy-seconds", busy_seconds, "Length of each busy run")->capture_default_str();
  app.add_option("--batch", batch_size, "Events per batch in the busy runs")->capture_default_str();
  app.add_option("--workers", workers, "Workers in the busy runs")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  BigQueryStandIn stand_in(
      {.project = "bench-project", .transaction_time = std::chrono::milliseconds(transaction_ms)},
      std::make_unique<testing_support::BigQuerySqliteEngine>());
  fmt::print(
      "stand-in transactions take {} ms; a batch waits at most 90 s for its merge (the "
      "default)\n\n",
      transaction_ms);
  std::fflush(stdout);

  fmt::print(
      "sparse: 1 event/s for {:.0f} s, one worker each, side by side; figures from the end of "
      "the first commit\n",
      sparse_seconds);
  Figures sparse[2];
  {
    std::thread per_batch(
        [&] { sparse[1] = Sparse(stand_in, kPerBatch, "sparse_per_batch", sparse_seconds); });
    sparse[0] = Sparse(stand_in, kMerged, "sparse_merged", sparse_seconds);
    per_batch.join();
  }
  for (int d = 0; d < 2; ++d) {
    const Figures& f = sparse[d];
    Must(f.failures == 0, fmt::format("{} commits failed", f.failures));
    fmt::print("  {:<22} {:>6} events, {:>8.2f} GB billed an hour, latency {}\n",
               d == 0 ? kMerged.name : kPerBatch.name, f.stored,
               double(f.billed) * 3600.0 / f.seconds / 1e9, Latency(f));
  }
  const double cost_ratio = (double(sparse[1].billed) / sparse[1].seconds) /
                            (double(sparse[0].billed) / sparse[0].seconds);
  fmt::print("  bytes billed an hour: {:.1f}x fewer merged (target >= 20x)\n\n", cost_ratio);
  std::fflush(stdout);

  fmt::print("busy: {} workers, batches of {} events, {:.0f} s each design\n", workers, batch_size,
             busy_seconds);
  Figures busy[2];
  int cancelled[2] = {0, 0};
  for (int d = 0; d < 2; ++d) {
    const int before = stand_in.cancelled_for_concurrent_update();
    busy[d] = Busy(stand_in, d == 0 ? kMerged : kPerBatch,
                   d == 0 ? "busy_merged" : "busy_per_batch", workers, batch_size, busy_seconds);
    cancelled[d] = stand_in.cancelled_for_concurrent_update() - before;
  }
  for (int d = 0; d < 2; ++d) {
    const Figures& f = busy[d];
    fmt::print(
        "  {:<22} {:>8.0f} events/s, commit latency {}, {} cancelled, {} failed, {:.0f} bytes "
        "billed an event\n",
        d == 0 ? kMerged.name : kPerBatch.name, double(f.stored) / f.seconds, Latency(f),
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
