// PostgreSQL ingest benchmark (issue: PostgreSQL warehouse and scale-out). On a real server
// started for the run (fsync on, as in production), for the same 1M events:
//   ingest x1   `bikestream ingest --from FILE --warehouse postgresql://…`: JSON lines in →
//               validated, deduplicated (event-id ledger), partitioned, indexed rows
//   ingest x2   two such workers at once, each on half of the file, into one database
//   one conn.   one worker committing on one connection (--writers 1), for comparison
//   reference   `psql -c "\copy raw_events FROM 'events.csv' CSV"` of the same rows, already
//               parsed, into the original notes' table with an event_id primary key
// Each is run --repeat times, interleaved, into a fresh database; the median is kept. Prints
// the rates and the ratios against the target: ingest x1 >= 0.7x the reference.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "event/event.h"
#include "simulator/simulator.h"
#include "support/postgres_server_process.h"

namespace bikestream {
namespace {

using bench::Median;
using bench::Must;
using bench::Seconds;

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using testing_support::PostgresServer;

constexpr double kTarget = 0.7;

int RunToEnd(const std::vector<std::string>& args) {
  bench::WatchedProcess process(args);
  return process.started() ? process.Wait() : -1;
}

// The events as JSON lines (one file, and in two halves) and as the CSV a loader would use.
void WriteInputs(std::uint64_t events, const fs::path& dir) {
  Simulator simulator(SimulatorOptions{.mode = SimulationMode::kStream,
                                       .stations = 1000,
                                       .seed = 1,
                                       .run_id = "pgbench",
                                       .start = 1760745600LL * kMicrosPerSecond});
  std::ofstream all(dir / "events.jsonl"), first(dir / "half1.jsonl"), second(dir / "half2.jsonl"),
      csv(dir / "events.csv");
  EventParser parser;
  for (std::uint64_t i = 0; i < events; ++i) {
    const std::string payload = simulator.Next().payload;
    all << payload << '\n';
    (i < events / 2 ? first : second) << payload << '\n';
    const Event event = std::get<Event>(parser.Parse(payload));
    csv << fmt::format("{},{},{},{},{}\n", event.event_id, event.station_id,
                       FormatRfc3339(event.ts), KindName(event.kind), event.delta);
  }
}

// Each measurement starts right after a checkpoint, so that none pays for the previous one's
// dirty pages and WAL.
void Checkpoint(const PostgresServer& server, const std::string& psql) {
  Must(RunToEnd({psql, "-q", server.Url(), "-c", "CHECKPOINT"}) == 0, "psql: checkpoint");
}

double Reference(const PostgresServer& server, const std::string& psql, const fs::path& dir,
                 int run) {
  const std::string url = server.CreateDatabase(fmt::format("reference_{}", run));
  const std::string create_table =
      "CREATE TABLE raw_events (event_id text PRIMARY KEY, station_id text, "
      "ts_iso timestamptz, kind text, delta bigint)";
  Must(RunToEnd({psql, "-q", url, "-c", create_table}) == 0, "psql: create table");
  Checkpoint(server, psql);
  const auto start = Steady::now();
  Must(RunToEnd({psql, "-q", url, "-c",
                 fmt::format("\\copy raw_events FROM '{}' WITH (FORMAT csv)",
                             (dir / "events.csv").string())}) == 0,
       "psql \\copy");
  return Seconds(start);
}

double Ingest(const PostgresServer& server, const std::string& psql, const std::string& binary,
              const std::vector<fs::path>& files, int run, const std::string& writers = "") {
  const std::string url =
      server.CreateDatabase(fmt::format("ingest{}_{}{}", files.size(), run, writers));
  Must(RunToEnd({binary, "setup", "--warehouse", url}) == 0, "bikestream setup");
  Checkpoint(server, psql);
  const auto start = Steady::now();
  std::vector<std::unique_ptr<bench::WatchedProcess>> workers;
  for (const fs::path& file : files) {
    std::vector<std::string> args = {binary,        "ingest", "--from", file.string(),
                                     "--warehouse", url,      "--json"};
    if (!writers.empty()) args.insert(args.end(), {"--writers", writers});
    workers.push_back(std::make_unique<bench::WatchedProcess>(args));
  }
  for (auto& worker : workers)
    Must(worker->started() && worker->Wait() == 0, "bikestream ingest failed");
  return Seconds(start);
}

}  // namespace
}  // namespace bikestream

// What may throw here is a bug in the benchmark's own set-up: terminating with the exception's
// message is the right end for it.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace bikestream;
  CLI::App app{"bikestream PostgreSQL ingest benchmark"};
  std::uint64_t events = 1'000'000;
  int repeat = 3;
  std::string binary = BIKESTREAM_BINARY;
  std::string dir = fs::temp_directory_path() / "bikestream-pg-bench";
  app.add_option("--events", events, "Events to load")->capture_default_str();
  app.add_option("--repeat", repeat, "Runs of each measurement; the median is kept")
      ->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (readable by the server's user)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  PostgresServer server(/*durable=*/true);
  Must(server.ready(), server.error());
  const std::string psql = (fs::path(PostgresServer::BinDirectory()) / "psql").string();
  fs::create_directories(dir);
  fmt::print("generating {} events (stream mode, 1000 stations)...\n", events);
  WriteInputs(events, dir);

  std::vector<double> reference, one, two, single_connection;
  for (int run = 0; run < repeat; ++run) {
    reference.push_back(Reference(server, psql, dir, run));
    one.push_back(Ingest(server, psql, binary, {fs::path(dir) / "events.jsonl"}, run));
    two.push_back(Ingest(server, psql, binary,
                         {fs::path(dir) / "half1.jsonl", fs::path(dir) / "half2.jsonl"}, run));
    single_connection.push_back(
        Ingest(server, psql, binary, {fs::path(dir) / "events.jsonl"}, run, "1"));
    fmt::print(
        "  run {}: ingest x1 {:.2f} s, ingest x2 {:.2f} s, one connection {:.2f} s, psql \\copy "
        "{:.2f} s\n",
        run + 1, one.back(), two.back(), single_connection.back(), reference.back());
  }
  const double n = double(events);
  const double ref = Median(reference), x1 = Median(one), x2 = Median(two),
               single = Median(single_connection);
  fmt::print("\n{} events, median of {} runs, PostgreSQL {} with fsync on\n", events, repeat,
             server.Version());
  fmt::print("  psql \\copy (reference)   {:>9.0f} events/s\n", n / ref);
  fmt::print(
      "  bikestream ingest x1     {:>9.0f} events/s   {:.2f}x the reference (target >= {:.1f}x: "
      "{})\n",
      n / x1, ref / x1, kTarget, ref / x1 >= kTarget ? "met" : "NOT met");
  fmt::print(
      "  bikestream ingest x2     {:>9.0f} events/s   {:.2f}x the reference, {:.2f}x one worker\n",
      n / x2, ref / x2, x1 / x2);
  fmt::print("  x1 on one connection     {:>9.0f} events/s   {:.2f}x the reference\n", n / single,
             ref / single);
  fs::remove_all(dir);
  return 0;
}
