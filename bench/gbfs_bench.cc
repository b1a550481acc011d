// GBFS benchmark (issue: real sources). The week of Oslo City Bike's real feed in
// tests/data/gbfs (483 snapshots, 27,001 changes), in one run:
//   parse only   the reference: a plain loop that reads the same file (zlib) and parses each
//                snapshot (ParseStationStatus, simdjson), nothing else
//   events       the replay in process: ReplayFeed -> Poller -> events, handed to a counter
//   committed    the replay committed in process, as `gbfs --to warehouse` runs it: Poller ->
//                StagedIngest -> SQLite (validated, deduplicated, durable), committing on a
//                thread beside the parsing, into a fresh database
//   --to warehouse  the same as a user runs it: `bikestream gbfs FILE --to warehouse` (the
//                process's start and the schema's set-up included)
//   gbfs | ingest   `bikestream gbfs FILE | bikestream ingest --from -`: two processes, a pipe
//   SQLite alone the physical limit of any committed replay into SQLite here: the same 27,001
//                rows, made beforehand, in one durable commit into the same schema
// with snapshots/s and events/s, and each as a ratio to parse only. Target: committed >= 0.5x
// parse only. Each is run --repeat times, interleaved, and the median kept.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "bench/bench_util.h"
#include "gbfs/feed.h"
#include "gbfs/poller.h"
#include "gbfs/snapshot_file.h"
#include "ingest/staged_ingest.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using bench::Median;
using bench::Must;
using bench::Seconds;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

const std::string kOsloWeek =
    std::string(BIKESTREAM_SOURCE_DIR) + "/tests/data/gbfs/oslo-station-status-2024-10-07.jsonl.gz";

struct Figures {
  double seconds = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t events = 0;
};

Figures ParseOnly() {
  Figures figures;
  std::uint64_t stations = 0;
  const auto start = Steady::now();
  const absl::Status read = gbfs::ForEachSnapshotLine(kOsloWeek, [&](const Line& line) {
    auto status = gbfs::ParseStationStatus(line.text);
    Must(status.ok(), "parse");
    stations += status->stations.size();
    ++figures.snapshots;
    return true;
  });
  figures.seconds = Seconds(start);
  Must(read.ok() && stations > 0, "read the week");
  return figures;
}

Figures Events() {
  Figures figures;
  const auto start = Steady::now();
  auto poller = gbfs::Poller::Open("oslobysykkel",
                                   [&](const std::vector<Event>& events) {
                                     figures.events += events.size();
                                     return absl::OkStatus();
                                   },
                                   SystemClock(), {});
  Must(poller.ok(), "poller");
  gbfs::ReplayFeed feed(kOsloWeek, 0, SystemClock());
  Must(poller->Run(feed, [] { return false; }).ok(), "replay");
  figures.seconds = Seconds(start);
  figures.snapshots = poller->stats().snapshots;
  return figures;
}

constexpr std::uint64_t kChanges = 27001;

// The database `name` in `dir`, removed with its log files; its path.
fs::path NoDatabase(const fs::path& dir, const std::string& name) {
  fs::path db = dir / (name + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  return db;
}

// A fresh database with bikestream's schema; its URL.
std::string FreshDatabase(const fs::path& dir, const std::string& name) {
  std::string url = "sqlite:" + NoDatabase(dir, name).string();
  Must(OpenWarehouse(url).value()->Setup().ok(), "setup");
  return url;
}

Figures Committed(const fs::path& dir) {
  const std::string url = FreshDatabase(dir, "committed");
  Figures figures;
  const auto start = Steady::now();
  {
    auto sink = OpenWarehouse(url);
    auto writer = OpenWarehouse(url);
    Must(sink.ok() && writer.ok(), "open");
    StagedIngest ingest(**sink, **writer, {.source = "bench"});
    auto poller = gbfs::Poller::Open(
        "oslobysykkel", [&](const std::vector<Event>& events) { return ingest.Stage(events); },
        SystemClock(), {.flush = [&] { return ingest.Flush(); }});
    Must(poller.ok(), "poller");
    gbfs::ReplayFeed feed(kOsloWeek, 0, SystemClock());
    Must(poller->Run(feed, [] { return false; }).ok(), "replay");
    figures.snapshots = poller->stats().snapshots;
    figures.events = ingest.stats().stored;
  }  // Closed (SQLite checkpoints its log) inside the time.
  figures.seconds = Seconds(start);
  Must(figures.events == kChanges, "stored every change");
  return figures;
}

// Runs `pipeline` (a shell command line whose last stage prints bikestream's summary line on
// stderr, to `err`), checking that it stored every change.
Figures Command(const std::string& pipeline, const fs::path& err) {
  const auto start = Steady::now();
  Must(std::system(pipeline.c_str()) == 0, pipeline);
  Figures figures{.seconds = Seconds(start), .snapshots = 483, .events = kChanges};
  // bikestream's own count of stored rows, so that a figure never comes from a short run.
  std::ifstream lines(err);
  bool stored = false;
  for (std::string line; std::getline(lines, line);) {
    stored = stored ||
             line.find(fmt::format("received {0}, stored {0},", kChanges)) != std::string::npos;
  }
  Must(stored, "stored every change: " + pipeline);
  return figures;
}

Figures ToWarehouse(const fs::path& dir) {
  const fs::path db = NoDatabase(dir, "to-warehouse");
  const fs::path err = dir / "to-warehouse.err";
  return Command(
      fmt::format("{} gbfs {} --system oslobysykkel --to warehouse --warehouse sqlite:{} 2>{}",
                  BIKESTREAM_BINARY, kOsloWeek, db.string(), err.string()),
      err);
}

Figures Piped(const fs::path& dir) {
  const std::string url = FreshDatabase(dir, "piped");
  const fs::path err = dir / "ingest.err";
  return Command(fmt::format("{0} gbfs {1} --system oslobysykkel 2>/dev/null | {0} ingest --from - "
                             "--warehouse {2} 2>{3}",
                             BIKESTREAM_BINARY, kOsloWeek, url, err.string()),
                 err);
}

// The week's changes, made once, for SQLite alone.
Batch WeekOfChanges() {
  Batch batch;
  auto poller =
      gbfs::Poller::Open("oslobysykkel",
                         [&](const std::vector<Event>& events) {
                           batch.events.insert(batch.events.end(), events.begin(), events.end());
                           return absl::OkStatus();
                         },
                         SystemClock(), {});
  gbfs::ReplayFeed feed(kOsloWeek, 0, SystemClock());
  Must(poller.ok() && poller->Run(feed, [] { return false; }).ok() &&
           batch.events.size() == kChanges,
       "the changes");
  return batch;
}

Figures SqliteAlone(const fs::path& dir, const Batch& changes) {
  const std::string url = FreshDatabase(dir, "alone");
  const auto start = Steady::now();
  {
    auto warehouse = OpenWarehouse(url);
    Must(warehouse.ok(), "open");
    auto committed = (*warehouse)->Commit(changes);
    Must(committed.ok() && committed->stored == kChanges, "commit");
  }
  return Figures{.seconds = Seconds(start), .snapshots = 483, .events = kChanges};
}

void PrintLine(std::string_view name, const Figures& f, double reference_seconds) {
  fmt::print("  {:<15} {:8.1f} ms  {:7.0f} snapshots/s  {:9.0f} events/s  {:5.2f}x parse only\n",
             name, f.seconds * 1000, double(f.snapshots) / f.seconds, double(f.events) / f.seconds,
             reference_seconds / f.seconds);
}

Figures MedianOf(std::vector<Figures> runs) {
  std::vector<double> seconds;
  seconds.reserve(runs.size());
  for (const auto& run : runs) seconds.push_back(run.seconds);
  Figures median = runs.front();
  median.seconds = Median(seconds);
  return median;
}

}  // namespace
}  // namespace bikestream

// What may throw here is a bug in the benchmark's own set-up: terminating with the exception's
// message is the right end for it.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace bikestream;
  CLI::App app("GBFS replay of the Oslo week against a parse-only loop");
  int repeat = 5;
  std::string dir = fs::temp_directory_path() / "bikestream-gbfs-bench";
  app.add_option("--repeat", repeat, "Runs of each, interleaved; the median is kept")
      ->check(CLI::Range(1, 100));
  app.add_option("--dir", dir, "Where the database goes");
  CLI11_PARSE(app, argc, argv);
  fs::create_directories(dir);

  const Batch changes = WeekOfChanges();
  std::vector<Figures> parse, events, committed, to_warehouse, piped, alone;
  for (int i = 0; i < repeat; ++i) {
    parse.push_back(ParseOnly());
    events.push_back(Events());
    committed.push_back(Committed(dir));
    to_warehouse.push_back(ToWarehouse(dir));
    piped.push_back(Piped(dir));
    alone.push_back(SqliteAlone(dir, changes));
  }
  const Figures reference = MedianOf(parse);
  const Figures in_process = MedianOf(committed);
  const Figures limit = MedianOf(alone);
  fmt::print("GBFS replay of the Oslo week ({} snapshots, {} changes), median of {}:\n",
             reference.snapshots, kChanges, repeat);
  PrintLine("parse only", reference, reference.seconds);
  PrintLine("events", MedianOf(events), reference.seconds);
  PrintLine("committed", in_process, reference.seconds);
  PrintLine("--to warehouse", MedianOf(to_warehouse), reference.seconds);
  PrintLine("gbfs | ingest", MedianOf(piped), reference.seconds);
  PrintLine("SQLite alone", limit, reference.seconds);
  const double ratio = reference.seconds / in_process.seconds;
  fmt::print("committed / parse only = {:.2f} (target >= 0.5: {})\n", ratio,
             ratio >= 0.5 ? "met" : "NOT met");
  fmt::print(
      "committed / SQLite alone = {:.2f} (the fraction of what storing these rows allows at all)\n",
      limit.seconds / in_process.seconds);
  fs::remove_all(dir);
  return 0;
}
