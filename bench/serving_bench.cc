// Serving benchmark (issue: a serving endpoint). 1,000 stations with 4 features in a SQLite
// warehouse; `bikestream serve` (the real binary) under load from Debian's `wrk` on loopback, in
// one run:
//   1 station     GET /v1/features?station_id=S, a random station each request
//   100 stations  GET with 100 random station_id parameters
//   /healthz      what the same HTTP server answers with no work at all: the ceiling of the
//                 HTTP stack and wrk on this machine, of which the two above are a fraction
// beside the reference: a plain loop that reads the same latest rows straight from the same
// SQLite file (one prepared statement on the table's key, the latest as_of already known, one
// thread per core), reads/s and p50/p99 a read.
// Then, while it serves, nine new ticks computed in this process: the time from each commit to
// its first answer from the server.
// Targets: 1 station p99 <= 2 ms at >= 10,000 requests/s; 100 stations p99 <= 10 ms; a new
// tick served within a second of its commit.
//
// wrk and the server share this machine's cores; wrk is closed-loop, so its latency is measured
// at the request rate its --connections reach, not at a fixed rate.
#include <fmt/format.h>
#include <httplib.h>
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "bench/bench_util.h"
#include "features/feature_spec.h"
#include "features/scheduler.h"
#include "simulator/simulator.h"
#include "support/free_port.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using bench::Must;
using bench::Percentile;
using bench::Seconds;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

constexpr int kStations = 1000;
constexpr DurationMicros kEvery = 15 * 60 * kMicrosPerSecond;
constexpr TimestampMicros kStart = 1'760'745'600'000'000;  // 2025-10-18T00:00:00Z.

// A day of simulated events on 1,000 stations, and the default features (4 of them) computed
// at the last tick and the one before: the latest tick is what is served.
void Fill(const std::string& url, std::uint64_t events) {
  auto warehouse = OpenWarehouse(url);
  Must(warehouse.ok() && (*warehouse)->Setup().ok(), "setup");
  Simulator simulator(SimulatorOptions{.mode = SimulationMode::kStream,
                                       .stations = kStations,
                                       .seed = 1,
                                       .run_id = "serve",
                                       .start = kStart,
                                       .speedup = 86400.0 * 1000.0 / double(events)});
  EventParser parser;
  Batch batch;
  TimestampMicros last = 0;
  for (std::uint64_t i = 0; i < events; ++i) {
    Event event = std::get<Event>(parser.Parse(simulator.Next().payload));
    last = std::max(last, event.ts);
    batch.events.push_back(std::move(event));
    if (batch.events.size() == 50'000 || i + 1 == events) {
      Must((*warehouse)->Commit(batch).ok(), "commit");
      batch.clear();
    }
  }
  for (TimestampMicros as_of : {FloorToTick(last, kEvery) - kEvery, FloorToTick(last, kEvery)}) {
    Must((*warehouse)->RefreshFeatures(DefaultFeatures(), as_of).ok(), "features");
  }
}

struct Latencies {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// The reference: reads `per_read` random stations' rows at the latest tick straight from the
// SQLite file, in a loop on `threads` threads for `seconds`.
class DirectReads {
 public:
  DirectReads(fs::path db, std::vector<std::string> stations)
      : db_(std::move(db)), stations_(std::move(stations)) {
    sqlite3* handle = Open();
    sqlite3_stmt* latest = nullptr;
    Must(sqlite3_prepare_v2(handle, "SELECT max(as_of) FROM main.station_features", -1, &latest,
                            nullptr) == SQLITE_OK &&
             sqlite3_step(latest) == SQLITE_ROW,
         sqlite3_errmsg(handle));
    as_of_ = sqlite3_column_int64(latest, 0);
    sqlite3_finalize(latest);
    sqlite3_close(handle);
  }

  // Station → feature → value, for `stations`.
  std::map<std::string, std::map<std::string, double>> Read(
      const std::vector<std::string>& stations) const {
    sqlite3* handle = Open();
    sqlite3_stmt* stmt = Prepare(handle, stations.size());
    std::map<std::string, std::map<std::string, double>> rows;
    Bind(stmt, stations);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      rows[Text(stmt, 0)][Text(stmt, 1)] = sqlite3_column_double(stmt, 2);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return rows;
  }

  Latencies Loop(std::size_t per_read, int threads, double seconds) const {
    std::vector<std::vector<double>> times(threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        sqlite3* handle = Open();
        sqlite3_stmt* stmt = Prepare(handle, per_read);
        std::mt19937 random(t);
        std::vector<std::string> asked(per_read);
        const auto end = Steady::now() + std::chrono::duration<double>(seconds);
        std::size_t rows = 0;
        double sum = 0;
        while (Steady::now() < end) {
          const auto start = Steady::now();
          for (auto& station : asked) station = stations_[random() % stations_.size()];
          Bind(stmt, asked);
          while (sqlite3_step(stmt) == SQLITE_ROW) {  // Each row's cells read, as served.
            rows += sqlite3_column_bytes(stmt, 0) > 0 && sqlite3_column_bytes(stmt, 1) > 0;
            sum += sqlite3_column_double(stmt, 2);
          }
          sqlite3_reset(stmt);
          times[t].push_back(Seconds(start) * 1000);
        }
        Must(rows > 0 && sum >= 0, "the reference read rows");
        sqlite3_finalize(stmt);
        sqlite3_close(handle);
      });
    }
    for (auto& worker : workers) worker.join();
    std::vector<double> all;
    for (const auto& some : times) all.insert(all.end(), some.begin(), some.end());
    return {double(all.size()) / seconds, Percentile(all, 0.5), Percentile(all, 0.99)};
  }

 private:
  sqlite3* Open() const {
    sqlite3* handle = nullptr;
    Must(sqlite3_open_v2(db_.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK,
         "open " + db_.string());
    return handle;
  }

  // The rows of `stations` stations at the latest tick: the table's key leads with station_id,
  // and an index is on (station_id, as_of).
  static sqlite3_stmt* Prepare(sqlite3* handle, std::size_t stations) {
    std::string sql =
        "SELECT station_id, feature_name, value FROM main.station_features WHERE as_of = ?1 AND "
        "station_id IN (?2";
    for (std::size_t i = 1; i < stations; ++i) sql += fmt::format(", ?{}", i + 2);
    sql += ")";
    sqlite3_stmt* stmt = nullptr;
    Must(sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
         sqlite3_errmsg(handle));
    return stmt;
  }

  void Bind(sqlite3_stmt* stmt, const std::vector<std::string>& stations) const {
    sqlite3_bind_int64(stmt, 1, as_of_);
    for (std::size_t i = 0; i < stations.size(); ++i) {
      sqlite3_bind_text(stmt, int(i) + 2, stations[i].data(), int(stations[i].size()),
                        SQLITE_STATIC);
    }
  }

  static std::string Text(sqlite3_stmt* stmt, int column) {
    return reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  }

  const fs::path db_;
  const std::vector<std::string> stations_;
  TimestampMicros as_of_ = 0;
};

std::vector<std::string> StationsServed(const fs::path& db) {
  sqlite3* handle = nullptr;
  Must(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK, "open");
  sqlite3_stmt* stmt = nullptr;
  Must(sqlite3_prepare_v2(handle,
                          "SELECT DISTINCT station_id FROM main.station_features WHERE as_of = "
                          "(SELECT max(as_of) FROM main.station_features) ORDER BY station_id",
                          -1, &stmt, nullptr) == SQLITE_OK,
       sqlite3_errmsg(handle));
  std::vector<std::string> stations;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    stations.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return stations;
}

// Asks the server for every station once and holds its answer against the reference's rows: a
// figure for wrong answers would mean nothing.
void CheckAnswers(httplib::Client& client, const DirectReads& reference,
                  const std::vector<std::string>& stations) {
  auto answer = client.Post("/v1/features", nlohmann::json{{"station_ids", stations}}.dump(),
                            "application/json");
  Must(answer && answer->status == 200, "POST of every station");
  const auto served = nlohmann::json::parse(answer->body);
  Must(served["unknown_stations"].empty() && served["stations"].size() == stations.size(),
       "every station served");
  const auto expected = reference.Read(stations);
  std::size_t values = 0;
  for (const auto& station : served["stations"]) {
    Must(station["features"].size() == DefaultFeatures().size(), "every feature served");
    for (const auto& [name, feature] : station["features"].items()) {
      const auto& row = expected.at(station["station_id"].get<std::string>());
      if (feature["value"].is_null()) {
        Must(!row.contains(name), "a null served where the table has a value");
        continue;
      }
      Must(row.at(name) == feature["value"].get<double>(),
           fmt::format("{} {}: the table's value served", station["station_id"].dump(), name));
      ++values;
    }
  }
  Must(values > 0, "values served");
  fmt::print("checked: the server's {} values for {} stations are the table's\n", values,
             stations.size());
}

// A Lua script for wrk that cycles through `paths` (wrk's per-request Lua is the cheapest when it
// only picks a prepared string).
fs::path WrkScript(const fs::path& dir, const std::string& name,
                   const std::vector<std::string>& paths) {
  fs::path script = dir / (name + ".lua");
  std::ofstream out(script);
  out << "local paths = {\n";
  for (const auto& path : paths) out << "  \"" << path << "\",\n";
  out << "}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n"
         "  return wrk.format(\"GET\", paths[i])\nend\n";
  return script;
}

std::vector<std::string> FeaturePaths(const std::vector<std::string>& stations, int per_request,
                                      int count) {
  std::mt19937 random(7);
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    std::string path = "/v1/features?";
    for (int s = 0; s < per_request; ++s) {
      path += (s ? "&station_id=" : "station_id=") + stations[random() % stations.size()];
    }
    paths.push_back(std::move(path));
  }
  return paths;
}

double WrkMillis(const std::string& output, const std::string& label) {
  std::smatch match;
  const std::regex line("\\s" + label + "\\s+([0-9.]+)(us|ms|s)\\b");
  Must(std::regex_search(output, match, line), "wrk printed no " + label + ":\n" + output);
  const double value = std::stod(match[1]);
  return match[2] == "us" ? value / 1000 : match[2] == "ms" ? value : value * 1000;
}

// Runs wrk against `url` with `script` and reads its figures; every answer must be a 2xx.
Latencies Wrk(const std::string& url, const fs::path& script, int threads, int connections,
              int seconds) {
  const std::string command = fmt::format("wrk -t{} -c{} -d{}s --latency -s {} {} 2>&1", threads,
                                          connections, seconds, script.string(), url);
  std::FILE* pipe = ::popen(command.c_str(), "r");
  Must(pipe != nullptr, "run wrk (apt install wrk)");
  std::string output;
  std::array<char, 4096> chunk{};
  for (std::size_t n; (n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0;) {
    output.append(chunk.data(), n);
  }
  Must(::pclose(pipe) == 0, "wrk failed (apt install wrk):\n" + output);
  Must(output.find("Non-2xx") == std::string::npos &&
           output.find("Socket errors") == std::string::npos,
       "wrk saw failed requests:\n" + output);
  std::smatch rate;
  Must(std::regex_search(output, rate, std::regex("Requests/sec:\\s+([0-9.]+)")),
       "wrk printed no rate:\n" + output);
  return {std::stod(rate[1]), WrkMillis(output, "50%"), WrkMillis(output, "99%")};
}

// Seconds from each of `ticks` new ticks' commit (RefreshFeatures returned) to the server's first
// answer at that tick, asked every millisecond.
std::vector<double> SecondsToServeNewTicks(const std::string& url, httplib::Client& client,
                                           const std::string& station, int ticks) {
  auto warehouse = OpenWarehouse(url, {}, OpenMode::kMustExist);
  Must(warehouse.ok(), "open");
  auto latest = (*warehouse)->LatestFeatureTime();
  Must(latest.ok() && latest->has_value(), "the latest tick");
  std::vector<double> seconds;
  for (int i = 1; i <= ticks; ++i) {
    const TimestampMicros as_of = **latest + i * kEvery;
    Must((*warehouse)->RefreshFeatures(DefaultFeatures(), as_of).ok(), "a new tick");
    const auto committed = Steady::now();
    const std::string expected = FormatRfc3339(as_of);
    while (true) {
      auto answer = client.Get("/v1/features?station_id=" + station);
      Must(answer && answer->status == 200, "an answer");
      if (nlohmann::json::parse(answer->body)["as_of"] == expected) break;
      Must(Seconds(committed) < 30, "the new tick served within 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    seconds.push_back(Seconds(committed));
  }
  return seconds;
}

void PrintRow(const std::string& what, const Latencies& figures) {
  fmt::print("  {:<40} {:>12.0f} {:>10.3f} {:>10.3f}\n", what, figures.per_second, figures.p50_ms,
             figures.p99_ms);
}

}  // namespace
}  // namespace bikestream

// What may throw here is a bug in the benchmark's own set-up: terminating with the exception's
// message is the right end for it.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace bikestream;
  CLI::App app{"bikestream serve under wrk, beside reading the same rows straight from SQLite"};
  std::uint64_t events = 500'000;
  int seconds = 10;
  int connections = 4;
  int wrk_threads = 1;
  std::string dir = fs::temp_directory_path() / "bikestream-serving-bench";
  app.add_option("--events", events, "Events simulated over a day")->capture_default_str();
  app.add_option("--seconds", seconds, "Length of each measured run, in whole seconds")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--connections", connections, "wrk's open connections")->capture_default_str();
  app.add_option("--wrk-threads", wrk_threads, "wrk's threads")->capture_default_str();
  app.add_option("--dir", dir, "Where the database goes");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // Checked first: a failure once `serve` runs would leave it running (Must exits at once).
  Must(std::system("command -v wrk >/dev/null") == 0,
       "wrk is needed: scripts/install-deps.sh (or apt install wrk) installs it");
  fs::create_directories(dir);
  const fs::path db = fs::path(dir) / "serving.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  fmt::print("storing {} simulated events on {} stations and their features...\n", events,
             kStations);
  Fill("sqlite:" + db.string(), events);
  const std::vector<std::string> stations = StationsServed(db);
  Must(stations.size() == kStations, fmt::format("{} stations have features", stations.size()));
  const DirectReads reference(db, stations);

  const int port = testing_support::FreeLoopbackPort();
  bench::WatchedProcess server({BIKESTREAM_BINARY, "serve", "--warehouse", "sqlite:" + db.string(),
                                "--listen", fmt::format("127.0.0.1:{}", port)});
  Must(server.started(), "start bikestream serve");
  httplib::Client client("127.0.0.1", port);
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  while (true) {
    auto health = client.Get("/healthz");
    if (health && health->status == 200) break;
    Must(Steady::now() < deadline, "bikestream serve became healthy within 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CheckAnswers(client, reference, stations);

  const std::string url = fmt::format("http://127.0.0.1:{}", port);
  const fs::path one = WrkScript(dir, "one", FeaturePaths(stations, 1, 1000));
  const fs::path hundred = WrkScript(dir, "hundred", FeaturePaths(stations, 100, 1000));
  const fs::path healthz = WrkScript(dir, "healthz", {"/healthz"});
  fmt::print("wrk -t{} -c{} for {} s each; the reference on {} threads for as long...\n",
             wrk_threads, connections, seconds, std::thread::hardware_concurrency());
  const Latencies served_one = Wrk(url, one, wrk_threads, connections, seconds);
  const Latencies served_hundred = Wrk(url, hundred, wrk_threads, connections, seconds);
  const Latencies ceiling = Wrk(url, healthz, wrk_threads, connections, seconds);
  const int cores = int(std::thread::hardware_concurrency());
  const Latencies direct_one = reference.Loop(1, cores, seconds);
  const Latencies direct_hundred = reference.Loop(100, cores, seconds);
  std::vector<double> to_serve =
      SecondsToServeNewTicks("sqlite:" + db.string(), client, stations.front(), 9);
  server.Signal(SIGTERM);
  const int exit_code = server.Wait();

  fmt::print("\n  {:<40} {:>12} {:>10} {:>10}\n", "", "requests/s", "p50 ms", "p99 ms");
  PrintRow("serve, 1 station a request", served_one);
  PrintRow("serve, 100 stations a request", served_hundred);
  PrintRow("serve, /healthz (the HTTP ceiling)", ceiling);
  PrintRow("reference: SQLite reads, 1 station", direct_one);
  PrintRow("reference: SQLite reads, 100 stations", direct_hundred);
  fmt::print("\nserve's peak memory {:.0f} MiB; it exited {} on SIGTERM\n", server.PeakMiB(),
             exit_code);
  fmt::print(
      "1 station: {:.0f} requests/s (target >= 10,000: {}), p99 {:.3f} ms (target <= 2 ms: "
      "{})\n",
      served_one.per_second, served_one.per_second >= 10'000 ? "MET" : "NOT MET", served_one.p99_ms,
      served_one.p99_ms <= 2 ? "MET" : "NOT MET");
  fmt::print("  = {:.2f}x the reference's reads/s, {:.2f} of the HTTP ceiling\n",
             served_one.per_second / direct_one.per_second,
             served_one.per_second / ceiling.per_second);
  fmt::print("100 stations: p99 {:.3f} ms (target <= 10 ms: {}); {:.2f}x the reference's reads/s\n",
             served_hundred.p99_ms, served_hundred.p99_ms <= 10 ? "MET" : "NOT MET",
             served_hundred.per_second / direct_hundred.per_second);
  fmt::print(
      "a new tick served {:.3f} s after its commit (median of {}; at most {:.3f} s; target: "
      "within a second: {})\n",
      bench::Median(to_serve), to_serve.size(), *std::max_element(to_serve.begin(), to_serve.end()),
      *std::max_element(to_serve.begin(), to_serve.end()) <= 1 ? "MET" : "NOT MET");
  fs::remove_all(dir);
  return 0;
}
