// `bikestream training-set`: station_features pivoted to one row per station and as_of, one
// column per feature, for training.
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "cli/cli_common.h"
#include "cli/warehouse_flags.h"
#include "cli/feature_flags.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/file.h"
#include "common/limits.h"
#include "common/print.h"
#include "common/status.h"
#include "event/line_reader.h"
#include "job/feature_job.h"

namespace bikestream::cli {
namespace {

struct TrainingSetFlags {
  WarehouseFlags warehouse;
  std::string feature_file;
  std::optional<std::string> as_of, from, to, labels, out;
  std::string format = "csv";
};

// One CSV record (RFC 4180 quoting).
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back().push_back(c);
    }
  }
  return fields;
}

// The labels file, open for reading lines: a regular file, or a pipe (`--labels <(make-labels)`);
// what else would block or never end (a directory, /dev/zero) is refused.
absl::StatusOr<UniqueFd> OpenLabels(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0) {
    return absl::NotFoundError(
        fmt::format("cannot read labels file '{}': {}", path, std::generic_category().message(errno)));
  }
  if (!S_ISREG(info.st_mode) && !S_ISFIFO(info.st_mode)) {
    return absl::InvalidArgumentError(fmt::format("labels file '{}' is not a file (a directory, a device)", path));
  }
  if (::fcntl(fd.get(), F_SETFL, 0) != 0) {  // A pipe's writer may be slower than this reader.
    return absl::UnavailableError(fmt::format("cannot read labels file '{}'", path));
  }
  return fd;
}

// The next line of `reader`: nullopt at the end; an error naming the line past the bound.
absl::StatusOr<std::optional<Line>> NextLabelsLine(LineReader& reader, const std::string& path) {
  auto line = reader.Next();
  if (!line.ok()) return Prefixed(path, line.status());
  if (line->has_value() && (*line)->truncated) {
    return absl::InvalidArgumentError(fmt::format("{}:{}: a line longer than {}: is it the labels CSV?", path,
                                                  (*line)->number, limits::BytesText(limits::kLabelsLine)));
  }
  return line;
}

absl::StatusOr<TrainingSetRequest::Labels> ReadLabels(const std::string& path) {
  auto fd = OpenLabels(path);
  if (!fd.ok()) return fd.status();
  LineReader reader(fd->get(), limits::kLabelsLine);
  auto first = NextLabelsLine(reader, path);
  if (!first.ok()) return first.status();
  if (!first->has_value()) {
    return absl::InvalidArgumentError(fmt::format("{}: empty; expected a header station_id,ts[,label…]", path));
  }
  const auto header = SplitCsv(std::string((*first)->text));
  if (header.size() < 2 || header[0] != "station_id" || header[1] != "ts") {
    return absl::InvalidArgumentError(fmt::format("{}:1: the header must start with station_id,ts", path));
  }
  TrainingSetRequest::Labels labels;
  labels.columns.assign(header.begin() + 2, header.end());
  for (;;) {
    auto next = NextLabelsLine(reader, path);
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    const std::string line((*next)->text);
    const std::uint64_t number = (*next)->number;
    if (line.empty()) continue;
    auto fields = SplitCsv(line);
    if (fields.size() != header.size()) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {} fields, the header has {}", path, number,
                                                    fields.size(), header.size()));
    }
    auto ts = ParseTimestamp(fields[1]);
    if (!ts.ok()) return absl::InvalidArgumentError(fmt::format("{}:{}: ts: {}", path, number, MessageOf(ts.status())));
    labels.rows.push_back({fields[0], *ts, {fields.begin() + 2, fields.end()}});
  }
  return labels;
}

absl::StatusOr<TimestampMicros> Instant(const std::optional<std::string>& flag, const char* name) {
  auto ts = ParseTimestamp(*flag);
  if (!ts.ok()) return absl::InvalidArgumentError(fmt::format("{}: {}", name, MessageOf(ts.status())));
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
    if (flags.as_of || flags.from || flags.to) return Fail("--labels picks each row's as_of itself: drop --as-of, --from and --to");
    auto labels = ReadLabels(*flags.labels);
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
    if (auto status = ExplainEmptyTick(**warehouse, request.features, *request.as_of); !status.ok()) return Fail(status);
  }
  std::FILE* out = stdout;
  if (flags.out) {
    out = std::fopen(flags.out->c_str(), "w");
    if (!out) return Fail(fmt::format("cannot write '{}'", *flags.out));
  }
  PrintResult(out, *result, flags.format == "jsonl" ? TableFormat::kJson : TableFormat::kCsv);
  const bool failed = out == stdout ? FlushStdout() != 0 && !StdoutReaderGone() : std::ferror(out) != 0;
  if (out != stdout) std::fclose(out);
  if (failed) return Fail("could not write the training set");
  Print(stderr, "{} rows, {} features\n", result->rows.size(), request.features.size());
  return kExitOk;
}

}  // namespace

void AddTrainingSetCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<TrainingSetFlags>();
  CLI::App* command = app.add_subcommand(
      "training-set", "Export station_features pivoted: one row per station and as_of, one column per feature");
  command->footer(
      "Examples:\n"
      "  bikestream training-set                                  # the latest as_of, CSV\n"
      "  bikestream training-set --from 2025-11-16T00:00:00Z --to 2025-11-17T00:00:00Z --out day.csv\n"
      "  bikestream training-set --labels labels.csv --format jsonl\n"
      "With --labels (CSV station_id,ts[,label…]) each row gets the features as of the latest\n"
      "as_of <= ts: point-in-time correct, never a value computed after ts.");
  AddWarehouseOptions(command, &flags->warehouse);
  AddFeatureFileOption(command, &flags->feature_file);
  command->add_option("--as-of", flags->as_of, "Rows of this as_of. Default: the latest stored");
  command->add_option("--from", flags->from, "With --to: a row per station per as_of in the range");
  command->add_option("--to", flags->to, "End of the range (inclusive)");
  command->add_option("--labels", flags->labels, "CSV of station_id,ts[,label…] to join point in time");
  command->add_option("--format", flags->format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();
  command->add_option("--out", flags->out, "Write here instead of stdout");
  command->callback([flags, &exit_code] { exit_code = Export(*flags); });
}

}  // namespace bikestream::cli
