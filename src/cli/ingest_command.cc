// `bikestream ingest`: JSON lines from a file or stdin into the warehouse, exactly once.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "ingest/ingest_lines.h"

namespace bikestream::cli {
namespace {

struct IngestFlags {
  std::string from;
  std::string warehouse;
  bool json = false;
  std::size_t batch_size = 50'000;
};

// Owns the input file descriptor (stdin is borrowed).
class Input {
 public:
  explicit Input(const std::string& from) {
    if (from == "-") {
      fd_ = STDIN_FILENO;
      source_ = "stdin";
      return;
    }
    fd_ = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    owned_ = fd_ >= 0;
    std::error_code ignored;
    source_ = "file:" + std::filesystem::absolute(from, ignored).string();
  }
  ~Input() {
    if (owned_) ::close(fd_);
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  int fd() const { return fd_; }
  const std::string& source() const { return source_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::string source_;
};

int RunIngest(const IngestFlags& flags) {
  Input input(flags.from);
  if (input.fd() < 0) {
    return Fail(fmt::format("cannot read '{}': {}", flags.from, std::strerror(errno)));
  }
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse);
  if (!warehouse.ok()) return Fail(warehouse.status());
  if (auto status = (*warehouse)->Setup(); !status.ok()) return Fail(status);

  const auto start = std::chrono::steady_clock::now();
  Ingestor ingestor(**warehouse, IngestOptions{.source = input.source(),
                                               .batch_size = flags.batch_size});
  LineReader reader(input.fd(), ValidationRules{}.max_message_bytes);
  absl::Status status;
  {
    ProgressLine progress;
    status = IngestLines(reader, ingestor, [&](const IngestStats& s) { progress.Update(s); });
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) {
    fmt::print(stderr, "committed before the error: {}\n", SummaryLine(ingestor.stats(), seconds));
    return Fail(fmt::format("{} (nothing after the last commit was stored; running the same "
                            "command again stores each event once)", MessageOf(status)));
  }
  if (flags.json) {
    fmt::print("{}\n", SummaryJson(ingestor.stats(), seconds));
  } else {
    fmt::print(stderr, "{}\n", SummaryLine(ingestor.stats(), seconds));
  }
  return kExitOk;
}

}  // namespace

void AddIngestCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<IngestFlags>();
  CLI::App* command = app.add_subcommand(
      "ingest", "Validate JSON-lines events and store each exactly once; bad lines go to dead_letter");
  command->footer(
      "Examples:\n"
      "  bikestream ingest --from events.jsonl\n"
      "  bikestream simulate --mode stream --count 1000 | bikestream ingest --from - --json\n"
      "Re-running over the same input stores nothing twice, also after a crash or kill -9.");
  command->add_option("--from", flags->from, "A JSON-lines file, or - for stdin")->required();
  AddWarehouseOption(command, &flags->warehouse);
  command->add_flag("--json", flags->json,
                    "Print one final JSON object: received, stored, duplicates, dead_lettered, "
                    "seconds, events_per_s");
  command->add_option("--batch-size", flags->batch_size, "Lines per transaction")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  command->callback([flags, &exit_code] { exit_code = RunIngest(*flags); });
}

}  // namespace bikestream::cli
