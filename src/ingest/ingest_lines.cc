#include "ingest/ingest_lines.h"

namespace bikestream {
namespace {

bool IsBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

absl::Status IngestLines(LineReader& reader, Ingestor& ingestor, const ProgressCallback& progress) {
  std::uint64_t commits_reported = 0;
  // A slow pipe still commits promptly: staged lines wait at most this long.
  constexpr int kMaxCommitDelayMillis = 200;
  reader.SetIdleHook(kMaxCommitDelayMillis, [&] {
    absl::Status status = ingestor.Flush();
    if (status.ok()) ingestor.NotifyIdle();
    return status;
  });
  while (true) {
    absl::StatusOr<std::optional<Line>> line = reader.Next();
    if (!line.ok()) return line.status();
    if (!line->has_value()) break;
    const Line& current = **line;
    if (IsBlank(current.text) && !current.truncated) continue;
    if (auto status = ingestor.Add(IngestMessage{.payload = current.text,
                                                 .position = current.number,
                                                 .truncated = current.truncated});
        !status.ok()) {
      return status;
    }
    if (progress && ingestor.stats().commits != commits_reported) {
      commits_reported = ingestor.stats().commits;
      progress(ingestor.stats());
    }
  }
  if (auto status = ingestor.Flush(); !status.ok()) return status;
  if (progress) progress(ingestor.stats());
  return absl::OkStatus();
}

}  // namespace bikestream
