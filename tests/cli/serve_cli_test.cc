// `bikestream serve` through the binary: its answers held side by side with what `training-set
// --format jsonl` exports, on the real Oslo week and beside `ingest --features streaming`.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cli/cli_test_util.h"
#include "support/oslo_week.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using e2e::TempDir;
using json = nlohmann::json;

// The training set's rows at the latest tick, station → row, as `training-set --format jsonl`
// prints them.
std::map<std::string, json> TrainedRows(const std::string& warehouse) {
  std::string out;
  EXPECT_EQ(RunBikestream({"training-set", "--format", "jsonl", "--warehouse", warehouse}, &out),
            0);
  std::map<std::string, json> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const json row = json::parse(line);
    rows[row.at("station_id").get<std::string>()] = row;
  }
  return rows;
}

// A `bikestream serve` process on a free loopback port.
class Server {
 public:
  Server(const TempDir& dir, std::vector<std::string> args)
      : child_([&] {
          args.insert(args.begin(), "serve");
          args.insert(args.end(), {"--listen", "127.0.0.1:0"});
          return Child(args, dir / "serve.out");
        }()) {
    const auto found =
        e2e::WaitForMatch(dir / "serve.out.err", R"(at http://127\.0\.0\.1:(\d+)/v1/features)");
    if (!found.empty())
      client_ = std::make_unique<httplib::Client>("127.0.0.1", std::stoi(found[1]));
  }
  ~Server() {
    child_.Signal(SIGTERM);
    EXPECT_EQ(child_.Wait(), 0);
  }
  bool started() const { return client_ != nullptr; }

  // The answer for every station of `trained`, in one POST.
  json AskFor(const std::map<std::string, json>& trained) {
    json stations = json::array();
    for (const auto& [station, row] : trained) stations.push_back(station);
    auto answer =
        client_->Post("/v1/features", json{{"station_ids", stations}}.dump(), "application/json");
    if (!answer || answer->status != 200) return json();
    return json::parse(answer->body);
  }

 private:
  Child child_;
  std::unique_ptr<httplib::Client> client_;
};

// What differs between the answer and the training set's rows ("" when nothing): every station
// answered, each feature's value of the same JSON type and value, at the same as_of.
std::string Differences(const json& answer, const std::map<std::string, json>& trained) {
  if (answer.is_null()) return "no answer";
  std::ostringstream differences;
  if (!answer["unknown_stations"].empty()) differences << "unknown: " << answer["unknown_stations"];
  if (answer["stations"].size() != trained.size()) {
    differences << answer["stations"].size() << " stations answered of " << trained.size();
  }
  for (const json& station : answer["stations"]) {
    const json& row = trained.at(station["station_id"].get<std::string>());
    if (station["features"].size() + 2 != row.size()) differences << "columns differ; ";
    for (const auto& [name, feature] : station["features"].items()) {
      if (feature["value"].dump() != row[name].dump() || feature["as_of"] != row["as_of"]) {
        differences << station["station_id"] << " " << name << ": served " << feature["value"]
                    << " at " << feature["as_of"] << ", trained " << row[name] << " at "
                    << row["as_of"] << "; ";
      }
    }
  }
  return differences.str();
}

TEST(ServeCli, ServesTheTrainingSetsRowsOfTheOsloWeekThroughNewAndRewrittenTicks) {
  TempDir dir;
  const std::string warehouse = "sqlite:" + dir / "oslo.db";
  std::string err;
  ASSERT_EQ(RunBikestream({"gbfs", testing_support::kOsloWeek, "--system", "oslobysykkel", "--to",
                           "warehouse", "--warehouse", warehouse},
                          nullptr, "/dev/null", &err),
            0)
      << err;
  // The week's last six hours of ticks, to its last at 2024-10-14T00:00:00Z.
  ASSERT_EQ(RunBikestream({"features", "--backfill", "2024-10-13T18:00:00Z..2024-10-14T00:00:00Z",
                           "--warehouse", warehouse}),
            0);
  std::map<std::string, json> trained = TrainedRows(warehouse);
  ASSERT_GT(trained.size(), 200u);  // The week's stations.
  ASSERT_EQ(trained.begin()->second["as_of"], "2024-10-14T00:00:00Z");

  Server server(dir, {"--warehouse", warehouse, "--ttl", "30m", "--reread", "1"});
  ASSERT_TRUE(server.started()) << e2e::ReadFile(dir / "serve.out.err");
  EXPECT_NE(e2e::ReadFile(dir / "serve.out.err")
                .find("a new tick is looked for every 0.25 s, the latest read again every 1 s"),
            std::string::npos)
      << e2e::ReadFile(dir / "serve.out.err");
  const json answer = server.AskFor(trained);
  EXPECT_EQ(Differences(answer, trained), "");
  // Two years old: past the TTL, and marked so.
  const json& first = answer["stations"][0]["features"]["pickup_count"];
  EXPECT_EQ(first["stale"], true);
  EXPECT_GT(first["age_seconds"].get<double>(), 365 * 86400.0);

  // A new tick committed while it serves is what it answers next.
  ASSERT_EQ(
      RunBikestream({"features", "--as-of", "2024-10-14T00:15:00Z", "--warehouse", warehouse}), 0);
  trained = TrainedRows(warehouse);
  ASSERT_EQ(trained.begin()->second["as_of"], "2024-10-14T00:15:00Z");
  EXPECT_TRUE(e2e::WaitUntil([&] { return Differences(server.AskFor(trained), trained).empty(); },
                             std::chrono::seconds(20)))
      << Differences(server.AskFor(trained), trained);

  // The same tick rewritten in place (late pickups, the tick computed again) is what it answers
  // after --reread, though the latest tick did not move.
  const std::string station = trained.begin()->first;
  const std::string late = dir / "late.jsonl";
  std::ofstream(late) << fmt::format(
      R"({{"event_id":"late-1","station_id":"{0}","ts_iso":"2024-10-14T00:10:00Z","kind":"pickup","delta":1}})"
      "\n"
      R"({{"event_id":"late-2","station_id":"{0}","ts_iso":"2024-10-14T00:11:00Z","kind":"pickup","delta":1}})"
      "\n",
      station);
  ASSERT_EQ(RunBikestream({"ingest", "--from", late, "--warehouse", warehouse}), 0);
  ASSERT_EQ(
      RunBikestream({"features", "--as-of", "2024-10-14T00:15:00Z", "--warehouse", warehouse}), 0);
  const std::map<std::string, json> rewritten = TrainedRows(warehouse);
  ASSERT_NE(rewritten.at(station)["pickup_count"], trained.at(station)["pickup_count"]);
  EXPECT_TRUE(
      e2e::WaitUntil([&] { return Differences(server.AskFor(rewritten), rewritten).empty(); },
                     std::chrono::seconds(20)))
      << Differences(server.AskFor(rewritten), rewritten);
}

TEST(ServeCli, BesideIngestWithStreamingFeaturesServesItsTicksAsTheyCome) {
  TempDir dir;
  const std::string warehouse = "sqlite:" + dir / "stream.db";
  ASSERT_EQ(RunBikestream({"setup", "--warehouse", warehouse}), 0);
  // Re-read every second: the streaming job rewrites the latest tick in place as events come.
  Server server(dir, {"--warehouse", warehouse, "--reread", "1"});
  ASSERT_TRUE(server.started()) << e2e::ReadFile(dir / "serve.out.err");
  // A paced stream through a pipe: 2,000 events a second for 4 s, event time at two 15-minute
  // ticks a second.
  const std::string pipe = dir / "events.fifo";
  ASSERT_EQ(mkfifo(pipe.c_str(), 0600), 0);
  // Held open for reading until both ends are taken: posix_spawn returns once its child runs,
  // and the writer's child would otherwise wait in open() for a reader that is never spawned.
  const int held = open(pipe.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(held, 0);
  Child simulate({"simulate", "--mode", "stream", "--count", "8000", "--stations", "40", "--start",
                  "2025-11-16T00:00:00Z", "--rate", "2000", "--speedup", "1800", "--seed", "5",
                  "--late-rate", "0.05", "--late-by", "5m"},
                 pipe);
  Child ingest({"ingest", "--from", "-", "--warehouse", warehouse, "--features", "streaming",
                "--batch-size", "200"},
               dir / "ingest.out", pipe);
  close(held);
  std::set<std::string> served_while_ingesting;
  while (ingest.Running()) {
    const json answer = server.AskFor({{"A_101", json()}});
    if (!answer.is_null()) served_while_ingesting.insert(answer["as_of"].get<std::string>());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(ingest.Wait(), 0) << e2e::ReadFile(dir / "ingest.out.err");
  ASSERT_EQ(simulate.Wait(), 0);
  // Ticks came and were served while the job ran, not only once it ended.
  EXPECT_GE(served_while_ingesting.size(), 2u);
  const std::map<std::string, json> trained = TrainedRows(warehouse);
  ASSERT_EQ(trained.size(), 40u);
  EXPECT_TRUE(e2e::WaitUntil([&] { return Differences(server.AskFor(trained), trained).empty(); },
                             std::chrono::seconds(20)))
      << Differences(server.AskFor(trained), trained);
}

}  // namespace
}  // namespace bikestream
