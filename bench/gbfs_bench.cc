// GBFS benchmark (issue: real sources). The week of Oslo City Bike's real feed in
// tests/data/gbfs (483 snapshots, 27,001 changes), in one run:
//   parse only   the reference: a plain loop that reads the same file (zlib) and parses each
//                snapshot (ParseStationStatus, simdjson), nothing else
//   events       the replay in process: ReplayFeed -> Poller -> events, handed to a counter
//   committed    the replay as a user runs it, end to end: `bikestream gbfs FILE | bikestream
//                ingest --from - --warehouse sqlite:…` (two processes, a pipe, validated,
//                deduplicated and durably committed rows in a fresh database)
// with snapshots/s and events/s, and each as a ratio to parse only. Target: committed >= 0.5x
// parse only. Each is run --repeat times, interleaved, and the median kept.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>

#include "bench/bench_util.h"
#include "gbfs/feed.h"
#include "gbfs/poller.h"
#include "gbfs/snapshot_file.h"

namespace bikestream {
namespace {

using bench::Median;
using bench::Must;
using bench::Seconds;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

const std::string kOsloWeek = std::string(BIKESTREAM_SOURCE_DIR) + "/tests/data/gbfs/oslo-station-status-2024-10-07.jsonl.gz";

struct Figures {
  double seconds = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t events = 0;
};

Figures ParseOnly() {
  Figures figures;
  std::uint64_t stations = 0;
  const auto start = Steady::now();
  const absl::Status read = gbfs::ForEachSnapshotLine(kOsloWeek, [&](std::string_view line) {
    auto status = gbfs::ParseStationStatus(line);
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
  auto poller = gbfs::Poller::Open(
      "oslobysykkel",
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

Figures Committed(const fs::path& dir) {
  const fs::path db = dir / "gbfs-bench.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  const std::string warehouse = "sqlite:" + db.string();
  Must(std::system(fmt::format("{} setup --warehouse {} >/dev/null 2>&1", BIKESTREAM_BINARY, warehouse).c_str()) == 0,
       "setup");
  const std::string pipeline = fmt::format(
      "{0} gbfs {1} --system oslobysykkel 2>/dev/null | {0} ingest --from - --warehouse {2} 2>{3}",
      BIKESTREAM_BINARY, kOsloWeek, warehouse, (dir / "ingest.err").string());
  const auto start = Steady::now();
  Must(std::system(pipeline.c_str()) == 0, "gbfs | ingest");
  Figures figures{.seconds = Seconds(start), .snapshots = 483};
  // The ingest's own count of stored rows, so that a figure never comes from a short run.
  std::ifstream err(dir / "ingest.err");
  std::string line;
  std::getline(err, line);
  Must(line.starts_with("received 27001, stored 27001,"), "ingest stored every change: " + line);
  figures.events = 27001;
  return figures;
}

void PrintLine(std::string_view name, const Figures& f, double reference_seconds) {
  fmt::print("  {:<12} {:8.1f} ms  {:7.0f} snapshots/s  {:9.0f} events/s  {:5.2f}x parse only\n", name,
             f.seconds * 1000, double(f.snapshots) / f.seconds, double(f.events) / f.seconds,
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
  app.add_option("--repeat", repeat, "Runs of each, interleaved; the median is kept")->check(CLI::Range(1, 100));
  app.add_option("--dir", dir, "Where the database goes");
  CLI11_PARSE(app, argc, argv);
  fs::create_directories(dir);

  std::vector<Figures> parse, events, committed;
  for (int i = 0; i < repeat; ++i) {
    parse.push_back(ParseOnly());
    events.push_back(Events());
    committed.push_back(Committed(dir));
  }
  const Figures reference = MedianOf(parse);
  fmt::print("GBFS replay of the Oslo week ({} snapshots, {} changes), median of {}:\n", reference.snapshots,
             MedianOf(committed).events, repeat);
  PrintLine("parse only", reference, reference.seconds);
  PrintLine("events", MedianOf(events), reference.seconds);
  const Figures end_to_end = MedianOf(committed);
  PrintLine("committed", end_to_end, reference.seconds);
  const double ratio = reference.seconds / end_to_end.seconds;
  fmt::print("committed / parse only = {:.2f} (target >= 0.5: {})\n", ratio, ratio >= 0.5 ? "met" : "NOT met");
  fs::remove_all(dir);
  return 0;
}
