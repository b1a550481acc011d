// `bikestream training-set`: station_features pivoted to one row per station and as_of, one
// column per feature, for training.
#include <fmt/format.h>

#include <optional>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/feature_flags.h"
#include "cli/output.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/status.h"
#include "features/labels.h"
#include "job/feature_job.h"

namespace bikestream::cli {
namespace {

struct TrainingSetFlags {
  WarehouseFlags warehouse;
  std::string feature_file;
  std::optional<std::string> as_of, from, to, labels, out;
  std::string format = "csv";
};

absl::StatusOr<TimestampMicros> Instant(const std::optional<std::string>& flag, const char* name) {
  auto ts = ParseTimestamp(*flag);
  if (!ts.ok())
    return absl::InvalidArgumentError(fmt::format("{}: {}", name, MessageOf(ts.status())));
  return *ts;
}

int Export(const TrainingSetFlags& flags) {
  auto features = FeaturesFromFlag(flags.feature_file);
  if (!features.ok()) return Fail(features.status());
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse, OpenMode::kMustExist);
  if (!warehouse.ok()) return Fail(warehouse.status());
  TrainingSetRequest request;
  request.features = FeatureNames(*features);
  if (flags.labels) {
    if (flags.as_of || flags.from || flags.to)
      return Fail("--labels picks each row's as_of itself: drop --as-of, --from and --to");
    auto labels = ReadLabelsFile(*flags.labels);
    if (!labels.ok()) return Fail(labels.status());
    request.labels = std::move(*labels);
  } else if (flags.from || flags.to) {
    if (!flags.from || !flags.to) return Fail("give both --from and --to");
    auto from = Instant(flags.from, "--from");
    auto to = Instant(flags.to, "--to");
    if (!from.ok()) return Fail(from.status());
    if (!to.ok()) return Fail(to.status());
    request.range = std::pair(*from, *to);
  } else if (flags.as_of) {
    auto as_of = Instant(flags.as_of, "--as-of");
    if (!as_of.ok()) return Fail(as_of.status());
    request.as_of = *as_of;
  } else {
    auto latest = (*warehouse)->LatestFeatureTime();
    if (!latest.ok()) return Fail(latest.status());
    if (!*latest) return Fail("station_features is empty: run `bikestream features` first");
    request.as_of = **latest;
  }
  auto result = (*warehouse)->TrainingSet(request);
  if (!result.ok()) return Fail(result.status());
  if (result->rows.empty() && request.as_of) {
    if (auto status = ExplainEmptyTick(**warehouse, request.features, *request.as_of); !status.ok())
      return Fail(status);
  }
  std::FILE* out = stdout;
  if (flags.out) {
    out = std::fopen(flags.out->c_str(), "w");
    if (!out) return Fail(fmt::format("cannot write '{}'", *flags.out));
  }
  PrintResult(out, *result, flags.format == "jsonl" ? TableFormat::kJson : TableFormat::kCsv);
  const bool failed =
      out == stdout ? FlushStdout() != 0 && !StdoutReaderGone() : std::ferror(out) != 0;
  if (out != stdout) std::fclose(out);
  if (failed) return Fail("could not write the training set");
  Print(stderr, "{} rows, {} features\n", result->rows.size(), request.features.size());
  return kExitOk;
}

}  // namespace

void AddTrainingSetCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<TrainingSetFlags>();
  CLI::App* command = app.add_subcommand(
      "training-set",
      "Export station_features pivoted: one row per station and as_of, one column per feature");
  command->footer(
      "Examples:\n"
      "  bikestream training-set                                  # the latest as_of, CSV\n"
      "  bikestream training-set --from 2025-11-16T00:00:00Z --to 2025-11-17T00:00:00Z --out "
      "day.csv\n"
      "  bikestream training-set --labels labels.csv --format jsonl\n"
      "With --labels (CSV station_id,ts[,label…]) each row gets the features as of the latest\n"
      "as_of <= ts: point-in-time correct, never a value computed after ts.");
  AddWarehouseOptions(command, &flags->warehouse);
  AddFeatureFileOption(command, &flags->feature_file);
  command->add_option("--as-of", flags->as_of, "Rows of this as_of. Default: the latest stored");
  command->add_option("--from", flags->from, "With --to: a row per station per as_of in the range");
  command->add_option("--to", flags->to, "End of the range (inclusive)");
  command->add_option("--labels", flags->labels,
                      "CSV of station_id,ts[,label…] to join point in time");
  command->add_option("--format", flags->format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();
  command->add_option("--out", flags->out, "Write here instead of stdout");
  command->callback([flags, &exit_code] { exit_code = Export(*flags); });
}

}  // namespace bikestream::cli
