// What the subcommands share: flags and environment for the warehouse, stop signals, progress
// on a terminal, and how errors reach the user. Only the CLI reads flags and the environment.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "features/feature_spec.h"
#include "ingest/ingestor.h"
#include "job/job_control.h"
#include "job/streaming_feature_sink.h"
#include "pubsub/pubsub.h"
#include "simulator/simulator.h"
#include "warehouse/warehouse.h"

namespace bikestream::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCancelled = 130;  // As a shell reports a job ended by SIGINT.
inline constexpr const char* kDefaultWarehouse = "sqlite:bikestream.db";

// The bounds of count, rate and size flags: past them a value is a typo, not a plan.
inline constexpr std::uint64_t kMaxCount = 1'000'000'000'000;  // Messages.
inline constexpr double kMaxSimulatedRate = 10'000'000;          // Events per second.
inline constexpr double kMinSpeedup = 1e-6;
inline constexpr double kMaxSpeedup = 1e9;
inline constexpr std::size_t kMaxRows = 10'000'000;              // Rows to print.

// Adds `--warehouse URL`; the value falls back to $BIKESTREAM_WAREHOUSE, then the default.
void AddWarehouseOption(CLI::App* command, std::string* url);

// Opens the warehouse named by the flag or the environment, with table names from
// $RAW_EVENT_TABLE, $FEATURE_EVENT_TABLE and $DEAD_LETTER_TABLE (the last dotted part, so the
// seed's `project.dataset.table` form works).
absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouseFromFlags(
    const std::string& url, OpenMode mode = OpenMode::kCreateIfMissing);

// Prints "bikestream: error: <message>" on stderr and returns kExitFailure.
int Fail(const absl::Status& status);
int Fail(std::string_view message);

// The Pub/Sub resource flags; each falls back to the environment names of DESIGN.md.
struct PubsubFlags {
  std::string project;       // $PROJECT_ID, then $GOOGLE_CLOUD_PROJECT.
  std::string topic;         // $PUBSUB_TOPIC.
  std::string subscription;  // $SUBSCRIPTION.
};
void AddPubsubOptions(CLI::App* command, PubsubFlags* flags, bool topic, bool subscription);
// Fills unset flags from the environment; an error names what is still missing.
absl::Status ResolvePubsubFlags(PubsubFlags* flags, bool need_topic, bool need_subscription);
// A retrying connection to $PUBSUB_EMULATOR_HOST, or to Google Cloud with
// $GOOGLE_OAUTH_ACCESS_TOKEN or the metadata server's credentials.
std::unique_ptr<pubsub::PubsubConnection> MakePubsubConnectionFromEnv();

// Adds `--feature-file FILE` (TOML; see docs/features.md). Empty means DESIGN.md's defaults.
void AddFeatureFileOption(CLI::App* command, std::string* path);
absl::StatusOr<std::vector<FeatureSpec>> FeaturesFromFlag(const std::string& path);

// `--features streaming` and its settings, on `run` and `ingest`.
struct StreamingFeatureFlags {
  std::string mode = "off";
  std::string feature_file;
  std::string every = "15m";
  std::string allowed_lateness = "10m";
};
void AddStreamingFeatureOptions(CLI::App* command, StreamingFeatureFlags* flags);
// The sink, or nullptr when streaming features are off.
absl::StatusOr<std::unique_ptr<StreamingFeatureSink>> MakeFeatureSink(const StreamingFeatureFlags& flags,
                                                                      Warehouse& warehouse);

// The simulation flags shared by `simulate` and `run`.
struct SimulationFlags {
  std::string mode = "sparse";
  std::string start = "now";
  std::string late_by = "10m";
  std::optional<std::uint64_t> seed;
  std::optional<std::string> run_id;
  std::optional<std::uint64_t> count;
  std::optional<std::string> duration;
  SimulatorOptions options;
};
void AddSimulationOptions(CLI::App* command, SimulationFlags* flags);
// Resolves the flags into options (random seed and run id when not given).
absl::StatusOr<SimulatorOptions> ResolveSimulation(SimulationFlags& flags);
absl::StatusOr<std::optional<double>> DurationSeconds(const std::optional<std::string>& flag);

// A duration flag's value within [min, max]; the error names the flag and the range.
absl::StatusOr<TimestampMicros> DurationFlag(std::string_view flag, std::string_view text, TimestampMicros min,
                                             TimestampMicros max);
inline constexpr TimestampMicros kSecond = kMicrosPerSecond;
inline constexpr TimestampMicros kDay = 24 * 3600 * kSecond;
// The longest tick, window or lateness a flag takes: a year.
inline constexpr TimestampMicros kMaxFlagDuration = 366 * kDay;

// Shows a progress line on stderr when it is a terminal, at most a few times a second.
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();  // Ends the line, so later output starts on its own.
  void Update(const IngestStats& stats);
  // Shows `what` after the elapsed time, with `count` per second.
  void Show(std::string_view what, std::uint64_t count);
  void Done();      // Ends the line now.

 private:
  bool enabled_;
  bool printed_ = false;
  TimestampMicros start_;
  TimestampMicros last_;
};

}  // namespace bikestream::cli
