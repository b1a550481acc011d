// Pub/Sub benchmark (issue: Pub/Sub end to end), against the official emulator, in one run:
//   publish      `bikestream simulate --to pubsub` of N events, beside a bare loop that only
//                sends the same payloads in 1000-message publish requests, one at a time
//   ingest       `bikestream ingest --from pubsub` of an N-message backlog until every event is
//                committed, beside a bare loop that only pulls and acknowledges 1000 at a time
//                (no parsing, no storage) on a copy of the same backlog
// Targets: both >= 0.8x their bare loop. Then the peak memory of ingest while it works on a
// 1M-message backlog, against 150 MB. The emulator slows to a few hundred messages a second
// with a backlog that large (its own CPU, not bikestream's), so the job runs until it has
// committed --backlog-sample messages, the backlog staying above 90% of its size throughout.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "bench/bench_util.h"
#include "simulator/simulator.h"
#include "support/pubsub_emulator_process.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using bench::Must;
using bench::Seconds;

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using testing_support::PubsubEmulator;

constexpr const char* kProject = PubsubEmulator::kProject;
constexpr int kBatch = 1000;

std::vector<std::string> Payloads(std::uint64_t count, const std::string& run_id) {
  Simulator simulator(SimulatorOptions{.mode = SimulationMode::kStream,
                                       .seed = 1,
                                       .run_id = run_id,
                                       .start = 1760745600LL * kMicrosPerSecond});
  std::vector<std::string> payloads;
  for (std::uint64_t i = 0; i < count; ++i) payloads.push_back(simulator.Next().payload);
  return payloads;
}

void MakeTopic(pubsub::PubsubConnection& c, const std::string& topic,
               const std::vector<std::string>& subscriptions) {
  Must(c.CreateTopic(kProject, topic).ok(), "create topic");
  for (const auto& s : subscriptions) {
    Must(c.CreateSubscription(
              {.project = kProject, .subscription = s, .topic = topic, .ack_deadline_seconds = 60})
             .ok(),
         "create subscription");
  }
}

double BarePublish(pubsub::PubsubConnection& c, const std::string& topic,
                   const std::vector<std::string>& payloads) {
  const auto start = Steady::now();
  for (std::size_t i = 0; i < payloads.size(); i += kBatch) {
    std::vector<std::string> batch(payloads.begin() + i,
                                   payloads.begin() + std::min(payloads.size(), i + kBatch));
    Must(c.Publish(kProject, topic, batch).ok(), "publish");
  }
  return Seconds(start);
}

double BarePullAck(pubsub::PubsubConnection& c, const std::string& subscription,
                   std::uint64_t count) {
  const auto start = Steady::now();
  std::uint64_t received = 0;
  while (received < count) {
    auto pulled = c.Pull(kProject, subscription, kBatch);
    Must(pulled.ok(), "pull");
    std::vector<std::string> ack_ids;
    for (auto& m : *pulled) ack_ids.push_back(std::move(m.ack_id));
    Must(c.Acknowledge(kProject, subscription, ack_ids).ok(), "ack");
    received += ack_ids.size();
  }
  return Seconds(start);
}

std::vector<std::string> SimulateFlags(const std::string& binary, const std::string& topic,
                                       std::uint64_t count) {
  return {binary,      "simulate", "--to",    "pubsub",
          "--project", kProject,   "--topic", topic,
          "--mode",    "stream",   "--seed",  "1",
          "--run-id",  "pub",      "--count", std::to_string(count)};
}

struct IngestRun {
  double seconds;
  double peak_mib;
};

// Ingests the backlog on `subscription` until `count` events are committed, then drains.
IngestRun Ingest(const std::string& binary, const std::string& subscription, std::uint64_t count,
                 const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  const std::string url = "sqlite:" + db.string();
  {
    auto warehouse = *OpenWarehouse(url);
    Must(warehouse->Setup().ok(), "setup");
  }
  const auto start = Steady::now();
  bench::WatchedProcess job({binary, "ingest", "--from", "pubsub", "--project", kProject,
                             "--subscription", subscription, "--warehouse", url, "--json"});
  auto warehouse = *OpenWarehouse(url);
  double seconds = 0;
  while (true) {
    auto rows = warehouse->Query("SELECT count(*) FROM raw_events");
    if (rows.ok() && std::stoull(rows->rows[0][0].text) >= count) {
      seconds = Seconds(start);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  job.Signal(SIGTERM);
  Must(job.Wait() == 0, "ingest did not drain cleanly");
  return {seconds, job.PeakMiB()};
}

std::string Verdict(double ratio, double target) { return ratio >= target ? "MET" : "NOT MET"; }

}  // namespace
}  // namespace bikestream

// What may throw here is a bug in the benchmark's own set-up: terminating with the exception's
// message is the right end for it.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace bikestream;
  CLI::App app{"bikestream Pub/Sub benchmark (starts the emulator itself)"};
  std::uint64_t events = 100'000;
  std::uint64_t backlog = 1'000'000;
  std::uint64_t backlog_sample = 50'000;
  std::string binary = BIKESTREAM_BINARY;
  app.add_option("--events", events, "Events for the rate comparisons")->capture_default_str();
  app.add_option("--backlog", backlog, "Backlog for the peak-memory run (0 = skip)")
      ->capture_default_str();
  app.add_option("--backlog-sample", backlog_sample, "Messages the peak-memory run commits")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  PubsubEmulator emulator;
  Must(emulator.ready(), emulator.error());
  setenv("PUBSUB_EMULATOR_HOST", emulator.host().c_str(), 1);
  const fs::path dir = fs::temp_directory_path() / "bikestream-pubsub-bench";
  fs::create_directories(dir);
  setenv("BIKESTREAM_STATE_DIR", (dir / "state").c_str(), 1);
  auto connection = emulator.Connect();
  fmt::print("emulator at {}; {} events\n", emulator.host(), events);

  // Publish: the bare loop, then the product, each into its own topic.
  const auto payloads = Payloads(events, "pub");
  MakeTopic(*connection, "bare-publish", {});
  MakeTopic(*connection, "product-publish", {});
  const double bare_publish = BarePublish(*connection, "bare-publish", payloads);
  const auto start = Steady::now();
  bench::WatchedProcess simulate(SimulateFlags(binary, "product-publish", events));
  Must(simulate.Wait() == 0, "simulate --to pubsub failed");
  const double product_publish = Seconds(start);

  // Ingest: one backlog, two subscriptions with the same messages.
  MakeTopic(*connection, "backlog", {"bare-pull", "product-pull"});
  BarePublish(*connection, "backlog", payloads);
  const double bare_pull = BarePullAck(*connection, "bare-pull", events);
  const IngestRun ingest = Ingest(binary, "product-pull", events, dir / "bench.db");

  const double n = double(events);
  fmt::print("\n{:<62} {:>10}\n", "measure", "msgs/s");
  fmt::print("{:<62} {:>10.0f}\n", "bare publish loop (1000-message requests, one at a time)",
             n / bare_publish);
  fmt::print("{:<62} {:>10.0f}\n", "simulate --to pubsub (generate, batch, publish)",
             n / product_publish);
  fmt::print("{:<62} {:>10.0f}\n", "bare pull+ack loop (1000 at a time, no parsing or storage)",
             n / bare_pull);
  fmt::print("{:<62} {:>10.0f}\n", "ingest --from pubsub (published -> committed)",
             n / ingest.seconds);
  const double publish_ratio = bare_publish / product_publish;
  const double ingest_ratio = bare_pull / ingest.seconds;
  fmt::print("\npublish: product / bare = {:.2f}x  (target >= 0.8x)  {}\n", publish_ratio,
             Verdict(publish_ratio, 0.8));
  fmt::print("ingest:  product / bare = {:.2f}x  (target >= 0.8x)  {}\n", ingest_ratio,
             Verdict(ingest_ratio, 0.8));

  if (backlog > 0) {
    fmt::print("\npublishing a backlog of {} messages...\n", backlog);
    MakeTopic(*connection, "big-backlog", {"big-pull"});
    for (std::uint64_t done = 0; done < backlog; done += events) {
      BarePublish(*connection, "big-backlog",
                  Payloads(std::min(events, backlog - done), fmt::format("big{}", done)));
    }
    const std::uint64_t sample = std::min(backlog, backlog_sample);
    const IngestRun big = Ingest(binary, "big-pull", sample, dir / "big.db");
    fmt::print(
        "ingest of the first {} messages of a {}-message backlog: {:.1f} s, peak RSS {:.1f} "
        "MiB  (target < 150 MB = 143.1 MiB)  {}\n",
        sample, backlog, big.seconds, big.peak_mib, big.peak_mib < 143.1 ? "MET" : "NOT MET");
  }
  fs::remove_all(dir);
  return 0;
}
