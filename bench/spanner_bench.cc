// Spanner on Google's emulator (started here): committed events/s of `bikestream ingest` beside
// a plain loop that only commits the same rows as insert mutations in batches of the same size
// (no dedup read), in the same run, one worker and three; and point reads of one station's
// latest features, p50/p99. The emulator runs one read-write transaction at a time, so its
// figures are the emulator's ceiling, not Cloud Spanner's.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "bench/bench_events.h"
#include "bench/bench_util.h"
#include "support/spanner_emulator.h"
#include "warehouse/spanner/spanner_backend.h"

namespace bikestream {
namespace {

using bench::Must;
using bench::Seconds;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::vector<Event> Events(std::uint64_t count) {
  std::vector<Event> events;
  events.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) events.push_back(bench::NumberedEvent("spb", i));
  return events;
}

void WriteJsonl(const std::vector<Event>& events, std::size_t from, std::size_t to,
                const fs::path& path) {
  std::ofstream out(path);
  for (std::size_t i = from; i < to; ++i) {
    const Event& e = events[i];
    out << fmt::format(
               R"({{"event_id":"{}","station_id":"{}","ts_iso":"{}","kind":"{}","delta":{}}})",
               e.event_id, e.station_id, FormatRfc3339(e.ts), KindName(e.kind), e.delta)
        << '\n';
  }
}

// A fresh database with the warehouse's tables; its URL.
std::string FreshDatabase(testing_support::SpannerEmulator& emulator,
                          spanner::ClientOptions* options) {
  *options = emulator.FreshDatabase();
  spanner::SpannerWarehouse warehouse({.client = *options, .emulator = true}, TableNames{});
  Must(warehouse.Setup().ok(), "setup");
  return fmt::format("spanner://{}/{}/{}", options->project, options->instance, options->database);
}

// The reference: the same rows, insert mutations only, `batch` a transaction, `workers` at once.
double PlainLoop(const spanner::ClientOptions& options, const std::vector<Event>& events,
                 std::size_t batch, int workers) {
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      spanner::Client client(options);
      const std::size_t from = events.size() * w / workers, to = events.size() * (w + 1) / workers;
      for (std::size_t i = from; i < to; i += batch) {
        spanner::Mutation insert{
            .table = "raw_events",
            .columns = {"event_id", "station_id", "ts_iso", "kind", "delta", "commit_id"}};
        for (std::size_t j = i; j < std::min(to, i + batch); ++j) {
          const Event& e = events[j];
          insert.rows.push_back({e.event_id, e.station_id, FormatRfc3339(e.ts),
                                 std::string(KindName(e.kind)), std::to_string(e.delta),
                                 "0123456789abcdef0123456789abcdef"});
        }
        Must(client
                 .RunTransaction([&](spanner::Transaction& t) {
                   t.Buffer(insert);
                   return absl::OkStatus();
                 })
                 .ok(),
             "plain commit");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return Seconds(start);
}

// `bikestream ingest` of the files at once, one process each; seconds until all exited.
double Ingest(const std::string& binary, const std::string& url, const std::vector<fs::path>& files,
              std::size_t batch) {
  const auto start = Steady::now();
  std::vector<std::unique_ptr<bench::WatchedProcess>> jobs;
  jobs.reserve(files.size());
  for (const fs::path& file : files) {
    jobs.push_back(std::make_unique<bench::WatchedProcess>(
        std::vector<std::string>{binary, "ingest", "--from", file.string(), "--warehouse", url,
                                 "--batch-size", std::to_string(batch), "--json"}));
  }
  for (auto& job : jobs) Must(job->Wait() == 0, "ingest");
  return Seconds(start);
}

std::int64_t Stored(spanner::Client& client) {
  auto rows = client.Query("SELECT COUNT(*) FROM raw_events");
  Must(rows.ok(), "count");
  return *spanner::Int64Of(rows->rows.at(0).at(0));
}

}  // namespace
}  // namespace bikestream

int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace bikestream;
  CLI::App app{"bikestream Spanner benchmark (starts Google's Spanner emulator itself)"};
  std::uint64_t count = 60'000;
  std::size_t batch = 5'000;
  int reads = 2'000;
  std::string binary = BIKESTREAM_BINARY;
  app.add_option("--events", count, "Events committed by each run")->capture_default_str();
  app.add_option("--batch", batch, "Events per transaction, in both")->capture_default_str();
  app.add_option("--reads", reads, "Point reads timed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  testing_support::SpannerEmulator emulator;
  Must(emulator.ready(), emulator.error());
  setenv("SPANNER_EMULATOR_HOST", emulator.host().c_str(), 1);
  const fs::path dir = fs::temp_directory_path() / "bikestream-spanner-bench";
  fs::create_directories(dir);
  const std::vector<Event> events = Events(count);
  fmt::print("emulator at {}; {} events, {} a transaction\n", emulator.host(), count, batch);

  for (int workers : {1, 3}) {
    std::vector<fs::path> files;
    for (int w = 0; w < workers; ++w) {
      files.push_back(dir / fmt::format("events-{}-{}.jsonl", workers, w));
      WriteJsonl(events, count * w / workers, count * (w + 1) / workers, files.back());
    }
    spanner::ClientOptions plain_db, ingest_db;
    FreshDatabase(emulator, &plain_db);
    const double plain = PlainLoop(plain_db, events, batch, workers);
    const std::string url = FreshDatabase(emulator, &ingest_db);
    const double ingest = Ingest(binary, url, files, batch);
    spanner::Client check(ingest_db);
    Must(Stored(check) == static_cast<std::int64_t>(count), "every event stored once");
    const double ratio = plain / ingest;
    fmt::print(
        "{} worker{}: ingest {:.0f} events/s, plain insert loop {:.0f} events/s: {:.2f}x "
        "(target >= 0.7x) {}\n",
        workers, workers == 1 ? "" : "s", count / ingest, count / plain, ratio,
        ratio >= 0.7 ? "MET" : "NOT MET");
  }

  // Point reads: 200 stations, 8 features, 96 ticks (15 minutes over a day) in station_features.
  spanner::ClientOptions features_db;
  FreshDatabase(emulator, &features_db);
  spanner::SpannerWarehouse warehouse({.client = features_db, .emulator = true}, TableNames{});
  const std::vector<std::string> names = {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"};
  std::vector<FeatureTick> ticks;
  const TimestampMicros start = 1760745600LL * kMicrosPerSecond;
  for (int t = 0; t < 96; ++t) {
    FeatureTick& tick = ticks.emplace_back();
    tick.as_of = start + t * 15 * kMicrosPerMinute;
    for (int s = 0; s < 200; ++s) {
      for (const std::string& name : names) {
        tick.rows.push_back({fmt::format("S{}", s), name, "1h", double(s * t), tick.as_of});
      }
    }
  }
  Must(warehouse.WriteFeatureTicks(names, ticks).ok(), "write ticks");
  spanner::Client client(features_db);
  std::mt19937 random(5);
  std::vector<double> millis;
  for (int i = 0; i < reads; ++i) {
    const std::string station = fmt::format("S{}", random() % 200);
    const auto read_start = Steady::now();
    // The station's rows by key (station_id leads the key, as_of descending within a
    // feature): its latest tick is the first row of each feature.
    auto rows = client.Read("station_features", {"feature_name", "window_len", "value", "as_of"},
                            {{"ranges", {{{"startClosed", {station}}, {"endClosed", {station}}}}}});
    Must(rows.ok(), "read");
    std::vector<const std::vector<nlohmann::json>*> latest;
    for (const auto& row : rows->rows) {
      if (latest.empty() || latest.back()->at(0) != row[0]) latest.push_back(&row);
    }
    millis.push_back(Seconds(read_start) * 1000);
    Must(latest.size() == names.size(), "a station's latest features");
  }
  std::sort(millis.begin(), millis.end());
  fmt::print(
      "point reads of one station's latest features ({} reads, 200 stations x 8 features "
      "x 96 ticks): p50 {:.2f} ms, p99 {:.2f} ms\n",
      reads, millis[millis.size() / 2], millis[millis.size() * 99 / 100]);
  fs::remove_all(dir);
  return 0;
}
