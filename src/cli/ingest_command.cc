// `bikestream ingest`: JSON lines from a file or stdin into the warehouse, exactly once.
#include <fmt/format.h>

#include "broker/open_source.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/feature_flags.h"
#include "cli/mqtt_flags.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "cli/pubsub_flags.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/status.h"
#include "ingest/ingest_lines.h"
#include "job/job_registry.h"
#include "job/streaming_job.h"

namespace bikestream::cli {
namespace {

struct IngestFlags {
  std::string from;
  WarehouseFlags warehouse;
  bool json = false;
  std::optional<std::size_t> batch_size;
  std::optional<int> writers;
  PubsubFlags pubsub;
  int pullers = 2;
  std::optional<std::size_t> max_outstanding_messages;  // Default: kMaxOutstandingMessages.
  std::size_t max_outstanding_bytes = 64 << 20;
  int ack_deadline_seconds = 60;
  pubsub::PushSourceOptions push;
  MqttFlags mqtt;
  std::string admin = "127.0.0.1:0";
  std::string admin_token;
  StreamingFeatureFlags features;
};

constexpr std::size_t kFileBatchSize = 50'000;
constexpr std::size_t kMaxOutstandingMessages = 20'000;

void PrintSummary(const IngestFlags& flags, const IngestStats& stats, double seconds) {
  if (flags.json) {
    Print("{}\n", SummaryJson(stats, seconds));
  } else {
    Print(stderr, "{}\n", SummaryLine(stats, seconds));
  }
}

// Connections that commit batches at once, where the engine takes several writers (or
// --writers asks for them); none for one writer, which is then the target's own connection.
// The target's connection stays with the committing thread, for the streaming features.
struct ConcurrentWriters {
  std::vector<std::unique_ptr<Warehouse>> connections;
  std::vector<EventSink*> sinks;
};

absl::StatusOr<ConcurrentWriters> OpenConcurrentWriters(const IngestFlags& flags,
                                                        const Warehouse& target) {
  ConcurrentWriters writers;
  const int count = flags.writers.value_or(target.ConcurrentWriters());
  for (int i = 0; count > 1 && i < count; ++i) {
    auto writer = OpenWarehouseFromFlags(flags.warehouse);
    if (!writer.ok()) return writer.status();
    writers.sinks.push_back(writers.connections.emplace_back(std::move(*writer)).get());
  }
  return writers;
}

// The warehouse, set up, its concurrent writers, and the streaming-feature sink when asked for
// (else null).
struct IngestTarget {
  std::unique_ptr<Warehouse> warehouse;
  ConcurrentWriters writers;
  std::unique_ptr<StreamingFeatureSink> features;

  // The costs of every connection's statements (BigQuery's) go to `observer`.
  void ObserveCosts(const CostObserver& observer) const {
    warehouse->ObserveCosts(observer);
    for (const auto& writer : writers.connections) writer->ObserveCosts(observer);
  }

  void Report() const {
    if (!features) return;
    Print(stderr, "streaming features: {} ticks written, {} events too late to rewrite theirs\n",
          features->ticks_written(), features->too_late());
  }
};

absl::StatusOr<IngestTarget> OpenForIngest(const IngestFlags& flags) {
  auto warehouse = OpenSetUpWarehouse(flags.warehouse);
  if (!warehouse.ok()) return warehouse.status();
  auto writers = OpenConcurrentWriters(flags, **warehouse);
  if (!writers.ok()) return writers.status();
  auto sink = MakeFeatureSink(flags.features, **warehouse);
  if (!sink.ok()) return sink.status();
  return IngestTarget{std::move(*warehouse), std::move(*writers), std::move(*sink)};
}

// Runs the streaming job on `source` and reports how it ended.
int RunJob(const IngestFlags& flags, IngestTarget& target, EventSource& source,
           StreamingOptions options) {
  options.concurrent_writers = target.writers.sinks;
  // Room for a batch on each writer and one staging, unless flow control was set.
  if (!flags.max_outstanding_messages) {
    options.max_outstanding_messages =
        std::max(options.max_outstanding_messages,
                 options.batch_size * (options.concurrent_writers.size() + 1));
  }
  options.observer = target.features.get();
  options.log = [](const std::string& line) { Print(stderr, "\n{}\n", line); };
  absl::StatusOr<StreamingJobResult> result;
  {
    ProgressLine progress;
    result = RunStreamingJob(
        source, *target.warehouse, options,
        StreamingJobOptions{
            .admin = flags.admin,
            .admin_token = flags.admin_token,
            .warehouse = WarehouseUrlOfStore(flags.warehouse),
            .state_dir = DefaultStateDir(),
            .progress = [&](const IngestStats& s) { progress.Update(s); },
            .announce = [](const std::string& line) { Print(stderr, "{}\n", line); },
            .attach_metrics =
                [&](JobMetrics& metrics) {
                  if (target.features) target.features->AttachMetrics(&metrics);
                  target.ObserveCosts(
                      CostReporter(flags.warehouse, [&metrics](const StatementCost& cost) {
                        metrics.warehouse_bytes_processed +=
                            std::uint64_t(std::max<std::int64_t>(cost.bytes_processed, 0));
                        metrics.warehouse_bytes_billed +=
                            std::uint64_t(std::max<std::int64_t>(cost.bytes_billed, 0));
                      }));
                }});
  }
  target.ObserveCosts(CostReporter(flags.warehouse));  // The job's metrics are gone.
  if (!result.ok()) return Fail(result.status());
  target.Report();
  PrintSummary(flags, result->stats, result->seconds);
  Print(stderr, "job {}\n", JobStateName(result->state));
  if (!result->error.ok()) return Fail(result->error);
  return result->state == JobState::kCancelled ? kExitCancelled : kExitOk;
}

// The streaming source the flags name (--from, or --push-listen), with the runner's settings.
absl::StatusOr<OpenedSource> OpenSourceFromFlags(IngestFlags& flags) {
  if (flags.from == "pubsub") {
    if (auto status = ResolvePubsubFlags(&flags.pubsub, false, true); !status.ok()) return status;
  }
  auto opened = OpenEventSource(
      {.from = flags.from,
       .pubsub = PubsubConnectionOptions(flags.pubsub),
       .project = flags.pubsub.project,
       .subscription = flags.pubsub.subscription,
       .push = flags.push,
       .mqtt = MqttSession(flags.mqtt),
       .pullers = flags.pullers,
       .max_outstanding_messages = flags.max_outstanding_messages.value_or(kMaxOutstandingMessages),
       .max_outstanding_bytes = flags.max_outstanding_bytes,
       .ack_deadline_seconds = flags.ack_deadline_seconds,
       .batch_size = flags.batch_size,
       .state_dir = DefaultStateDir(),
       .log = [](const std::string& line) { Print(stderr, "\n{}\n", line); }});
  if (opened.ok() && !opened->started.empty()) Print(stderr, "{}\n", opened->started);
  return opened;
}

int IngestStreaming(IngestFlags& flags) {
  auto opened = OpenSourceFromFlags(flags);
  if (!opened.ok()) return Fail(opened.status());
  auto target = OpenForIngest(flags);
  if (!target.ok()) return Fail(target.status());
  return RunJob(flags, *target, *opened->source, opened->options);
}

int RunIngest(IngestFlags& flags) {
  if (!flags.push.listen.empty()) {
    if (!flags.from.empty()) return Fail("give either --from or --push-listen, not both");
    return IngestStreaming(flags);
  }
  if (flags.from.empty()) {
    return Fail(
        "say where events come from: --from FILE|-|pubsub|mqtt://HOST:PORT/TOPIC, or "
        "--push-listen");
  }
  if (IsStreamingSource(flags.from)) return IngestStreaming(flags);
  auto input = LineInput::Open(flags.from, ValidationRules{}.max_message_bytes);
  if (!input.ok()) return Fail(input.status());
  auto target = OpenForIngest(flags);
  if (!target.ok()) return Fail(target.status());

  const TimestampMicros start = SystemClock().Now();
  InputIngestResult result;
  {
    ProgressLine progress;
    result = IngestInput(**input, *target->warehouse,
                         {.batch_size = flags.batch_size.value_or(kFileBatchSize),
                          .observer = target->features.get(),
                          .concurrent_writers = target->writers.sinks},
                         [&](const IngestStats& s) { progress.Update(s); });
  }
  const double seconds = double(SystemClock().Now() - start) / kMicrosPerSecond;
  if (absl::IsFailedPrecondition(result.status) && result.stats.received == 0)
    return Fail(result.status);
  if (!result.status.ok()) {
    Print(stderr, "committed before the error: {}\n", SummaryLine(result.stats, seconds));
    return Fail(
        fmt::format("{} (nothing after the last commit was stored; running the same "
                    "command again stores each event once)",
                    MessageOf(result.status)));
  }
  target->Report();
  PrintSummary(flags, result.stats, seconds);
  return kExitOk;
}

}  // namespace

void AddIngestCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<IngestFlags>();
  CLI::App* command = app.add_subcommand(
      "ingest",
      "Validate JSON-lines events and store each exactly once; bad lines go to dead_letter");
  command->footer(
      "Examples:\n"
      "  bikestream ingest --from events.jsonl\n"
      "  bikestream simulate --mode stream --count 1000 | bikestream ingest --from - --json\n"
      "  PUBSUB_EMULATOR_HOST=127.0.0.1:8085 bikestream ingest --from pubsub --project demo \\\n"
      "      --subscription bike-ingest\n"
      "  bikestream ingest --from mqtt://127.0.0.1:1883/bikes/events --client-id bike-ingest\n"
      "Re-running over the same input stores nothing twice, also after a crash or kill -9.\n"
      "The streaming job acknowledges a message only after its commit. SIGTERM drains it (stop\n"
      "pulling, commit and ack what is in flight, exit 0: DRAINED); Ctrl-C cancels it (stop now,\n"
      "hand back what is not committed for redelivery, exit 130: CANCELLED).");
  command->add_option(
      "--from", flags->from,
      "A JSON-lines file (gzip-compressed or not), - for stdin, or a streaming job's source: "
      "pubsub (on "
      "--subscription), or an MQTT topic, mqtt://HOST[:PORT]/TOPIC (filters + and # "
      "allowed; mqtts:// for TLS; docs/mqtt.md)");
  command->add_option("--push-listen", flags->push.listen,
                      "Accept Pub/Sub push requests at HOST:PORT (a push subscription's endpoint)");
  Secret(command->add_option("--push-token", flags->push.token,
                             "Require ?token=THIS on push requests (401 otherwise)"));
  AddWarehouseOptions(command, &flags->warehouse);
  AddCommitDelayOption(command, &flags->warehouse);
  command->add_flag("--json", flags->json,
                    "Print one final JSON object: received, stored, duplicates, dead_lettered, "
                    "seconds, events_per_s");
  command
      ->add_option("--batch-size", flags->batch_size,
                   "Messages per transaction (default: 50000 from a file, 10000 from a broker)")
      ->check(CLI::Range(1, 10'000'000));
  command
      ->add_option("--writers", flags->writers,
                   "Connections committing batches at once; a streaming job acknowledges each "
                   "batch after its own commit (default: 2 on PostgreSQL and BigQuery, 4 on "
                   "Spanner; 1 on SQLite, which takes one writer at a time, and on Spanner's "
                   "emulator)")
      ->check(CLI::Range(1, 16));
  AddPubsubOptions(command, &flags->pubsub, false, true);
  AddMqttOptions(command, &flags->mqtt, true);
  const auto* streaming = "Streaming job (--from pubsub, --from mqtt://…)";
  command->add_option("--pullers", flags->pullers, "Pulls in flight")
      ->check(CLI::Range(1, 64))
      ->capture_default_str()
      ->group(streaming);
  command
      ->add_option("--max-outstanding-messages", flags->max_outstanding_messages,
                   "Flow control: messages received and not yet acknowledged (default: 20000, or "
                   "room for a batch on each of --writers and one more; MQTT: the Receive "
                   "Maximum asked of the broker, 65535 at most)")
      ->check(CLI::Range(1, 10'000'000))
      ->group(streaming);
  command
      ->add_option("--max-outstanding-bytes", flags->max_outstanding_bytes,
                   "Flow control: bytes received and not yet acknowledged")
      ->check(CLI::Range(1 << 16, 1 << 30))
      ->capture_default_str()
      ->group(streaming);
  command
      ->add_option("--ack-deadline", flags->ack_deadline_seconds,
                   "Seconds each lease is extended to while a message waits for its commit")
      ->check(CLI::Range(10, 600))
      ->capture_default_str()
      ->group(streaming);
  command
      ->add_option("--admin", flags->admin,
                   "Admin endpoint HOST:PORT (/healthz, /metrics, /job, POST /drain, POST "
                   "/cancel); port 0 picks a free one")
      ->capture_default_str()
      ->group(streaming);
  AddAdminTokenOption(command, &flags->admin_token);
  AddStreamingFeatureOptions(command, &flags->features);
  command->callback([flags, &exit_code] { exit_code = RunIngest(*flags); });
}

}  // namespace bikestream::cli
