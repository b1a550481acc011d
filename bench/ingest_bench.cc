// Ingest benchmark (issue: the embedded pipeline). Prints, for the same 1M events in one run:
//   ingest     JSON lines in -> validated, deduplicated, durably committed rows (bikestream ingest)
//   ref (a)    a plain SQLite loop of pre-parsed rows into the original notes' table
//              (event_id primary key + index on station_id, ts_iso; ISO text timestamps as the
//              events carry them), prepared statements of 64 rows, 10k rows a transaction,
//              committed as bikestream commits (WAL, synchronous=FULL)
//   ref (b)    the same loop into bikestream's own schema
//   limit      the same loop appending to a table with no key and no index: what SQLite can
//              store durably at all, the physical limit of any ingest into it
// and the ratios against the targets: ingest >= 2x (a) and >= 0.8x (b), and ingest as a
// fraction of the limit. Each is run --repeat times, interleaved, and the median kept. Then the
// peak memory of `bikestream run` over 10M events against the 100 MB target.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "event/event.h"
#include "ingest/ingest_lines.h"
#include "simulator/simulator.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using bench::Median;
using bench::Must;
using bench::Seconds;

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

constexpr int kReferenceRowsPerTransaction = 10'000;

// A row as a plain loop would hold it after parsing: the event's fields as given.
struct ParsedRow {
  std::string event_id, station_id, ts_iso, kind;
  int delta;
};

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  Must(sqlite3_exec(db, sql, nullptr, nullptr, &error) == SQLITE_OK,
       fmt::format("{}: {}", sql, error ? error : "?"));
}

void RemoveDatabase(const fs::path& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path.string() + suffix);
}

// Rows an insert statement takes in bulk, as bikestream's SQLite commits do: a careful
// programmer shares each statement's fixed cost among many rows.
constexpr int kReferenceRowsPerInsert = 64;

// An INSERT of `rows` rows, prepared. OR IGNORE: the events hold no duplicates, and without it
// SQLite keeps a statement journal to undo a statement that fails part way (measured: a bulk
// insert then takes over three times as long).
sqlite3_stmt* PrepareInsert(sqlite3* db, int rows) {
  std::string sql =
      "INSERT OR IGNORE INTO raw_events (event_id, station_id, ts_iso, kind, delta) VALUES ";
  for (int i = 0; i < rows; ++i) sql += i == 0 ? "(?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?)";
  sqlite3_stmt* insert = nullptr;
  Must(sqlite3_prepare_v2(db, sql.c_str(), -1, &insert, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
  return insert;
}

// Binds `row` as the `index`th row (from 0) of `insert`.
void BindRow(sqlite3_stmt* insert, int index, const ParsedRow& row, bool ts_as_text) {
  const int first = index * 5;
  sqlite3_bind_text(insert, first + 1, row.event_id.data(), int(row.event_id.size()),
                    SQLITE_STATIC);
  sqlite3_bind_text(insert, first + 2, row.station_id.data(), int(row.station_id.size()),
                    SQLITE_STATIC);
  if (ts_as_text) {
    sqlite3_bind_text(insert, first + 3, row.ts_iso.data(), int(row.ts_iso.size()), SQLITE_STATIC);
  } else {
    sqlite3_bind_int64(insert, first + 3, *ParseRfc3339(row.ts_iso));
  }
  sqlite3_bind_text(insert, first + 4, row.kind.data(), int(row.kind.size()), SQLITE_STATIC);
  sqlite3_bind_int(insert, first + 5, row.delta);
}

void Step(sqlite3* db, sqlite3_stmt* insert) {
  Must(sqlite3_step(insert) == SQLITE_DONE, sqlite3_errmsg(db));
  sqlite3_reset(insert);
}

// The plain loop of every reference. `ts_as_text` binds ts_iso as the ISO string (the notes'
// table) or as bikestream's integer microseconds. 10k rows a transaction, 64 rows an insert.
// Commits are as durable as bikestream's: a careful programmer would pick WAL too, and fewer
// syncs would measure a different promise.
double PlainLoop(const fs::path& db_path, const std::vector<ParsedRow>& rows, bool ts_as_text) {
  sqlite3* db = nullptr;
  Must(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK, "open");
  Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  sqlite3_stmt* bulk = PrepareInsert(db, kReferenceRowsPerInsert);
  sqlite3_stmt* single = PrepareInsert(db, 1);
  const auto start = Steady::now();
  for (std::size_t begin = 0; begin < rows.size(); begin += kReferenceRowsPerTransaction) {
    const std::size_t end = std::min(rows.size(), begin + kReferenceRowsPerTransaction);
    Exec(db, "BEGIN");
    std::size_t i = begin;
    for (; i + kReferenceRowsPerInsert <= end; i += kReferenceRowsPerInsert) {
      for (int k = 0; k < kReferenceRowsPerInsert; ++k) BindRow(bulk, k, rows[i + k], ts_as_text);
      Step(db, bulk);
    }
    for (; i < end; ++i) {
      BindRow(single, 0, rows[i], ts_as_text);
      Step(db, single);
    }
    Exec(db, "COMMIT");
  }
  const double seconds = Seconds(start);
  sqlite3_finalize(bulk);
  sqlite3_finalize(single);
  sqlite3_close(db);
  return seconds;
}

double ReferenceNotes(const fs::path& db_path, const std::vector<ParsedRow>& rows) {
  RemoveDatabase(db_path);
  sqlite3* db = nullptr;
  Must(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK, "open");
  Exec(db,
       "CREATE TABLE raw_events (event_id STRING PRIMARY KEY, station_id STRING, "
       "ts_iso TIMESTAMP, kind STRING, delta INT64);"
       "CREATE INDEX raw_events_station_ts ON raw_events (station_id, ts_iso);");
  sqlite3_close(db);
  return PlainLoop(db_path, rows, /*ts_as_text=*/true);
}

double ReferenceAppendOnly(const fs::path& db_path, const std::vector<ParsedRow>& rows) {
  RemoveDatabase(db_path);
  sqlite3* db = nullptr;
  Must(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK, "open");
  Exec(db,
       "CREATE TABLE raw_events (event_id TEXT, station_id TEXT, ts_iso INTEGER, kind TEXT, "
       "delta INTEGER)");
  sqlite3_close(db);
  return PlainLoop(db_path, rows, /*ts_as_text=*/false);
}

double ReferenceOwnSchema(const fs::path& db_path, const std::vector<ParsedRow>& rows) {
  RemoveDatabase(db_path);
  auto warehouse = OpenWarehouse("sqlite:" + db_path.string());
  Must(warehouse.ok() && (*warehouse)->Setup().ok(), "setup");
  warehouse->reset();
  return PlainLoop(db_path, rows, /*ts_as_text=*/false);
}

double Ingest(const fs::path& db_path, const fs::path& events_path) {
  RemoveDatabase(db_path);
  const auto start = Steady::now();
  auto warehouse = OpenWarehouse("sqlite:" + db_path.string());
  Must(warehouse.ok() && (*warehouse)->Setup().ok(), "setup");
  const int fd = ::open(events_path.c_str(), O_RDONLY);
  Must(fd >= 0, "open events");
  Ingestor ingestor(**warehouse, IngestOptions{.source = "bench"});
  LineReader reader(fd, ValidationRules{}.max_message_bytes);
  Must(IngestLines(reader, ingestor).ok(), "ingest");
  ::close(fd);
  const double seconds = Seconds(start);
  Must(ingestor.stats().stored == ingestor.stats().received, "ingest stored fewer than it read");
  return seconds;
}

// Runs `bikestream run` over `count` events and returns its peak resident memory in MiB.
double PeakMemoryMiB(const std::string& binary, const fs::path& db_path, std::uint64_t count) {
  RemoveDatabase(db_path);
  bench::WatchedProcess run({binary, "run", "--mode", "stream", "--stations", "1000", "--count",
                             std::to_string(count), "--duplicate-rate", "0.01", "--invalid-rate",
                             "0.01", "--warehouse", "sqlite:" + db_path.string(), "--json"});
  Must(run.started() && run.Wait() == 0, "bikestream run failed");
  return run.PeakMiB();
}

}  // namespace
}  // namespace bikestream

// What may throw here is a bug in the benchmark's own set-up: terminating with the exception's
// message is the right end for it.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace bikestream;
  CLI::App app{"bikestream ingest benchmark"};
  std::uint64_t events = 1'000'000;
  std::uint64_t memory_events = 10'000'000;
  int repeat = 3;
  std::string binary = BIKESTREAM_BINARY;
  std::string dir = fs::temp_directory_path() / "bikestream-bench";
  app.add_option("--events", events, "Events for the rate comparison")->capture_default_str();
  app.add_option("--memory-events", memory_events, "Events for the peak-memory run (0 = skip)")
      ->capture_default_str();
  app.add_option("--repeat", repeat, "Runs of each measurement; the median is kept")
      ->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Progress shows as it happens, also in a log.

  fs::create_directories(dir);
  const fs::path events_path = fs::path(dir) / "events.jsonl";
  const fs::path db_path = fs::path(dir) / "bench.db";
  fmt::print("generating {} events (stream mode, 1000 stations)...\n", events);
  std::vector<ParsedRow> rows;
  {
    Simulator simulator(SimulatorOptions{.mode = SimulationMode::kStream,
                                         .stations = 1000,
                                         .seed = 1,
                                         .run_id = "bench",
                                         .start = 1760745600LL * kMicrosPerSecond});
    std::ofstream out(events_path);
    EventParser parser;
    for (std::uint64_t i = 0; i < events; ++i) {
      std::string payload = simulator.Next().payload;
      out << payload << '\n';
      Event event = std::get<Event>(parser.Parse(payload));
      rows.push_back({event.event_id, event.station_id, FormatRfc3339(event.ts),
                      std::string(KindName(event.kind)), event.delta});
    }
  }

  std::vector<double> ingest, notes, own, limit;
  for (int run = 0; run < repeat; ++run) {
    notes.push_back(ReferenceNotes(db_path, rows));
    own.push_back(ReferenceOwnSchema(db_path, rows));
    limit.push_back(ReferenceAppendOnly(db_path, rows));
    ingest.push_back(Ingest(db_path, events_path));
    fmt::print("  run {}: ingest {:.2f} s, ref (a) {:.2f} s, ref (b) {:.2f} s, limit {:.2f} s\n",
               run + 1, ingest.back(), notes.back(), own.back(), limit.back());
  }
  const double n = double(events);
  const double ingest_rate = n / Median(ingest), notes_rate = n / Median(notes),
               own_rate = n / Median(own), limit_rate = n / Median(limit);
  fmt::print("\n{:<58} {:>12}\n", "measure (median of runs, all WAL + synchronous=FULL)",
             "events/s");
  fmt::print("{:<58} {:>12.0f}\n", "ingest: JSON lines -> validated, deduped, committed",
             ingest_rate);
  fmt::print("{:<58} {:>12.0f}\n", "ref (a): plain loop, original notes' table", notes_rate);
  fmt::print("{:<58} {:>12.0f}\n", "ref (b): plain loop, bikestream's schema", own_rate);
  fmt::print("{:<58} {:>12.0f}\n", "limit: plain loop, no key, no index (append only)", limit_rate);
  const double vs_notes = ingest_rate / notes_rate, vs_own = ingest_rate / own_rate;
  fmt::print("\ningest / ref (a) = {:.2f}x  (target >= 2.0x)  {}\n", vs_notes,
             vs_notes >= 2.0 ? "MET" : "NOT MET");
  fmt::print("ingest / ref (b) = {:.2f}x  (target >= 0.8x)  {}\n", vs_own,
             vs_own >= 0.8 ? "MET" : "NOT MET");
  fmt::print("ingest / limit   = {:.2f}  (fraction of what SQLite can append durably)\n",
             ingest_rate / limit_rate);

  rows = {};
  rows.shrink_to_fit();
  if (memory_events > 0) {
    fmt::print("\nrunning `bikestream run` over {} events for peak memory...\n", memory_events);
    const double peak = PeakMemoryMiB(binary, db_path, memory_events);
    fmt::print("peak RSS of run over {} events = {:.1f} MiB  (target < 100 MB = 95.4 MiB)  {}\n",
               memory_events, peak, peak < 95.4 ? "MET" : "NOT MET");
  }
  bikestream::RemoveDatabase(db_path);
  fs::remove(events_path);
  return 0;
}
