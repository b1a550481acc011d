#include "ingest/ingest_lines.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/file.h"
#include "common/redact.h"

namespace bikestream {
namespace {

bool IsBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LineInput>> LineInput::Open(const std::string& from,
                                                           std::size_t max_line_bytes) {
  std::unique_ptr<LineInput> input(new LineInput);
  if (from == "-") {
    input->fd_ = STDIN_FILENO;
    input->source_ = "stdin";
    input->reader_ = std::make_unique<LineReader>(input->fd_, max_line_bytes);
    return input;
  }
  std::error_code ignored;
  input->source_ = "file:" + std::filesystem::absolute(from, ignored).string();
  if (IsGzipFile(from)) {
    auto file = GzipFile::Open(from);
    if (!file.ok()) return file.status();
    input->gzip_ = std::make_unique<GzipFile>(std::move(*file));
    GzipFile* gzip = input->gzip_.get();
    input->reader_ = std::make_unique<LineReader>(
        [gzip](char* out, std::size_t size) { return gzip->Read(out, size); }, max_line_bytes);
    return input;
  }
  input->fd_ = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  input->owns_fd_ = input->fd_ >= 0;
  // A mistyped source URL lands here as a file name: its password stays out of the message.
  if (input->fd_ < 0) return CannotRead(RedactUrl(from), errno);
  input->reader_ = std::make_unique<LineReader>(input->fd_, max_line_bytes);
  return input;
}

LineInput::~LineInput() {
  if (owns_fd_) ::close(fd_);
}

absl::Status LineInput::CheckComplete() {
  return gzip_ ? gzip_->CheckComplete() : absl::OkStatus();
}

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
    if (current.number == 1 && StartsLikeGzip(current.text)) {
      return absl::FailedPreconditionError(
          "the input is gzip-compressed: give the file itself to --from (ingest decodes it), or "
          "pipe it "
          "through zcat");
    }
    if (IsBlank(current.text) && !current.truncated) continue;
    if (auto status = ingestor.Add(IngestMessage{
            .payload = current.text, .position = current.number, .truncated = current.truncated});
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

InputIngestResult IngestInput(LineInput& input, EventSink& sink, IngestOptions options,
                              const ProgressCallback& progress) {
  options.source = input.source();
  Ingestor ingestor(sink, std::move(options));
  absl::Status status = IngestLines(input.reader(), ingestor, progress);
  if (status.ok()) status = input.CheckComplete();
  return {.status = std::move(status), .stats = ingestor.stats()};
}

}  // namespace bikestream
