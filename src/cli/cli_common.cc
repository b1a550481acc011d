#include "cli/cli_common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "common/status.h"

namespace bikestream::cli {
namespace {

std::string FirstEnv(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name); value && *value) return value;
  }
  return "";
}

std::string TableFromEnv(const char* variable, std::string fallback) {
  const char* value = std::getenv(variable);
  if (!value || !*value) return fallback;
  std::string_view name(value);
  if (auto dot = name.rfind('.'); dot != std::string_view::npos) name.remove_prefix(dot + 1);
  return std::string(name);
}

constexpr TimestampMicros kProgressInterval = 250 * kMicrosPerMilli;

}  // namespace

void AddWarehouseOption(CLI::App* command, std::string* url) {
  command->add_option("--warehouse", *url,
                      "Where the tables live: sqlite:PATH, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB "
                      "(what the URL leaves out comes from PGHOST, PGPORT, PGUSER, PGPASSWORD, "
                      "~/.pgpass). Falls back to $BIKESTREAM_WAREHOUSE.")
      ->envname("BIKESTREAM_WAREHOUSE")
      ->default_val(kDefaultWarehouse);
}

absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouseFromFlags(const std::string& url,
                                                                  OpenMode mode) {
  TableNames tables;
  tables.raw_events = TableFromEnv("RAW_EVENT_TABLE", tables.raw_events);
  tables.station_features = TableFromEnv("FEATURE_EVENT_TABLE", tables.station_features);
  tables.dead_letter = TableFromEnv("DEAD_LETTER_TABLE", tables.dead_letter);
  return OpenWarehouse(url, tables, mode);
}

int Fail(std::string_view message) {
  fmt::print(stderr, "bikestream: error: {}\n", message);
  return kExitFailure;
}

int Fail(const absl::Status& status) { return Fail(MessageOf(status)); }

void AddPubsubOptions(CLI::App* command, PubsubFlags* flags, bool topic, bool subscription) {
  command->add_option("--project", flags->project,
                      "Google Cloud project. Falls back to $PROJECT_ID, then $GOOGLE_CLOUD_PROJECT");
  if (topic) command->add_option("--topic", flags->topic, "Pub/Sub topic. Falls back to $PUBSUB_TOPIC");
  if (subscription) {
    command->add_option("--subscription", flags->subscription,
                        "Pub/Sub subscription. Falls back to $SUBSCRIPTION");
  }
}

absl::Status ResolvePubsubFlags(PubsubFlags* flags, bool need_topic, bool need_subscription) {
  if (flags->project.empty()) flags->project = FirstEnv({"PROJECT_ID", "GOOGLE_CLOUD_PROJECT"});
  if (flags->topic.empty()) flags->topic = FirstEnv({"PUBSUB_TOPIC"});
  if (flags->subscription.empty()) flags->subscription = FirstEnv({"SUBSCRIPTION"});
  if (flags->project.empty()) {
    return absl::InvalidArgumentError("no Pub/Sub project: give --project or set PROJECT_ID");
  }
  if (need_topic && flags->topic.empty()) {
    return absl::InvalidArgumentError("no Pub/Sub topic: give --topic or set PUBSUB_TOPIC");
  }
  if (need_subscription && flags->subscription.empty()) {
    return absl::InvalidArgumentError(
        "no Pub/Sub subscription: give --subscription or set SUBSCRIPTION");
  }
  return absl::OkStatus();
}

std::unique_ptr<pubsub::PubsubConnection> MakePubsubConnectionFromEnv() {
  std::shared_ptr<gcp::Credentials> credentials;
  if (std::string token = FirstEnv({"GOOGLE_OAUTH_ACCESS_TOKEN"}); !token.empty()) {
    credentials = gcp::MakeAccessTokenCredentials(std::move(token));
  }
  return pubsub::MakeRetryingConnection(pubsub::MakeRestConnection(pubsub::ConnectionOptions{
      .emulator_host = FirstEnv({"PUBSUB_EMULATOR_HOST"}), .credentials = std::move(credentials)}));
}

void AddFeatureFileOption(CLI::App* command, std::string* path) {
  command->add_option("--feature-file", *path,
                      "TOML file of [[feature]] tables that replaces the default features");
}

absl::StatusOr<std::vector<FeatureSpec>> FeaturesFromFlag(const std::string& path) {
  if (path.empty()) return DefaultFeatures();
  return LoadFeatureFile(path);
}

void AddStreamingFeatureOptions(CLI::App* command, StreamingFeatureFlags* flags) {
  const char* group = "Streaming features";
  command->add_option("--features", flags->mode,
                      "streaming: keep station_features fresh at each tick of event time, as the "
                      "batch job would write them")
      ->check(CLI::IsMember({"off", "streaming"}))
      ->capture_default_str()
      ->group(group);
  AddFeatureFileOption(command, &flags->feature_file);
  command->add_option("--every", flags->every, "Tick interval of the streaming features")
      ->capture_default_str()
      ->group(group);
  command->add_option("--allowed-lateness", flags->allowed_lateness,
                      "Late events this far behind the latest event time rewrite the ticks they "
                      "belong to; later ones count only in ticks still to come")
      ->capture_default_str()
      ->group(group);
}

absl::StatusOr<std::unique_ptr<StreamingFeatureSink>> MakeFeatureSink(const StreamingFeatureFlags& flags,
                                                                      Warehouse& warehouse) {
  if (flags.mode != "streaming") return std::unique_ptr<StreamingFeatureSink>();
  auto features = FeaturesFromFlag(flags.feature_file);
  if (!features.ok()) return features.status();
  auto every = DurationFlag("--every", flags.every, kSecond, kMaxFlagDuration);
  if (!every.ok()) return every.status();
  auto lateness = DurationFlag("--allowed-lateness", flags.allowed_lateness, 0, kMaxFlagDuration);
  if (!lateness.ok()) return lateness.status();
  return StreamingFeatureSink::Create(
      warehouse, warehouse, StreamingFeatureOptions{.features = std::move(*features), .every = *every,
                                         .allowed_lateness = *lateness,
                                         .log = [](const std::string& line) { fmt::print(stderr, "\n{}\n", line); }});
}

void AddSimulationOptions(CLI::App* c, SimulationFlags* f) {
  c->add_option("--mode", f->mode,
                "sparse: a few stations, one event every 1-3 s (the original sensors script); "
                "stream: a busy city at --rate events/s")
      ->check(CLI::IsMember({"sparse", "stream"}))
      ->capture_default_str();
  c->add_option("--rate", f->options.rate, "Stream mode: events per second; 0 = as fast as possible")
      ->check(CLI::Range(0.0, kMaxSimulatedRate))
      ->capture_default_str();
  c->add_option("--count", f->count, "Stop after N messages (duplicates and invalid ones included)")
      ->check(CLI::Range(std::uint64_t{1}, kMaxCount));
  c->add_option("--duration", f->duration, "Stop after this long, e.g. 30s, 5m, 1h");
  c->add_option("--stations", f->options.stations,
                "Number of stations (sparse default: A_101 A_205 A_310; stream default: 50)");
  c->add_option("--seed", f->seed, "Random seed: the same seed gives the same stream");
  c->add_option("--run-id", f->run_id,
                "Per-run part of event ids (e-RUN-N); pin it with --seed and --start to replay "
                "exactly. Default: random");
  c->add_option("--start", f->start, "Event time of the first event, RFC 3339, or 'now'")
      ->capture_default_str();
  c->add_option("--speedup", f->options.speedup,
                "Event-time seconds per wall second, e.g. 3600 for an hour per second")
      ->check(CLI::Range(kMinSpeedup, kMaxSpeedup))
      ->capture_default_str();
  c->add_option("--duplicate-rate", f->options.duplicate_rate,
                "Share of messages that repeat an earlier event (0..1)");
  c->add_option("--invalid-rate", f->options.invalid_rate,
                "Share of messages that are bad input of every kind (0..1)");
  c->add_option("--late-rate", f->options.late_rate, "Share of events with a late timestamp (0..1)");
  c->add_option("--late-by", f->late_by, "How late those events are, at most")->capture_default_str();
}

absl::StatusOr<std::optional<double>> DurationSeconds(const std::optional<std::string>& flag) {
  if (!flag) return std::nullopt;
  // Up to ten years: a run that is meant to go on without end needs no --duration.
  auto micros = DurationFlag("--duration", *flag, kSecond, 3660 * kDay);
  if (!micros.ok()) return micros.status();
  return double(*micros) / kMicrosPerSecond;
}

absl::StatusOr<TimestampMicros> DurationFlag(std::string_view flag, std::string_view text, TimestampMicros min,
                                             TimestampMicros max) {
  auto micros = ParseDuration(text);
  if (!micros.ok()) return absl::InvalidArgumentError(fmt::format("{}: {}", flag, MessageOf(micros.status())));
  if (*micros < min || *micros > max) {
    return absl::InvalidArgumentError(fmt::format("{} {}: must be from {}s to {}d", flag, text, min / kSecond,
                                                  max / kDay));
  }
  return *micros;
}

absl::StatusOr<SimulatorOptions> ResolveSimulation(SimulationFlags& f) {
  SimulatorOptions options = f.options;
  options.mode = f.mode == "stream" ? SimulationMode::kStream : SimulationMode::kSparse;
  options.seed = f.seed ? *f.seed : std::random_device{}();
  options.run_id = f.run_id ? *f.run_id : RandomRunId();
  if (f.start == "now") {
    options.start = SystemClock().Now() / kMicrosPerSecond * kMicrosPerSecond;
  } else {
    auto start = ParseRfc3339(f.start);
    if (!start.ok()) return absl::InvalidArgumentError(fmt::format("--start: {}", MessageOf(start.status())));
    options.start = *start;
  }
  auto late_by = DurationFlag("--late-by", f.late_by, kSecond, kMaxFlagDuration);
  if (!late_by.ok()) return late_by.status();
  options.late_by = *late_by;
  if (auto status = ValidateSimulatorOptions(options); !status.ok()) return status;
  return options;
}

ProgressLine::ProgressLine()
    : enabled_(isatty(STDERR_FILENO)), start_(SystemClock().Now()), last_(start_) {}

ProgressLine::~ProgressLine() { Done(); }

void ProgressLine::Done() {
  if (printed_) fmt::print(stderr, "\n");
  printed_ = false;
  enabled_ = false;
}

void ProgressLine::Update(const IngestStats& stats) {
  Show(fmt::format("received {}  stored {}  duplicates {}  dead-lettered {}", stats.received,
                   stats.stored, stats.duplicates, stats.dead_lettered),
       stats.received);
}

void ProgressLine::Show(std::string_view what, std::uint64_t count) {
  if (!enabled_) return;
  const TimestampMicros now = SystemClock().Now();
  if (printed_ && now - last_ < kProgressInterval) return;
  last_ = now;
  printed_ = true;
  const double seconds = double(now - start_) / kMicrosPerSecond;
  fmt::print(stderr, "\r{:.1f} s  {}  {:.0f}/s   ", seconds, what, seconds > 0 ? count / seconds : 0.0);
  std::fflush(stderr);
}

}  // namespace bikestream::cli
