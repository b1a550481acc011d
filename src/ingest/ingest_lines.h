// Ingests JSON lines (a file or stdin) until the end of input.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/gzip_file.h"
#include "event/line_reader.h"
#include "ingest/ingestor.h"

namespace bikestream {

// Called after each commit, so a terminal can show progress.
using ProgressCallback = std::function<void(const IngestStats&)>;

// The lines `ingest --from` reads: "-" (stdin, borrowed), or a file, plain or gzip-compressed
// (told by its first bytes, whatever its name; decoded as it is read).
class LineInput {
 public:
  // kNotFound or kUnavailable, naming the file, when it cannot be read.
  static absl::StatusOr<std::unique_ptr<LineInput>> Open(const std::string& from,
                                                         std::size_t max_line_bytes);
  ~LineInput();
  LineInput(const LineInput&) = delete;
  LineInput& operator=(const LineInput&) = delete;

  LineReader& reader() { return *reader_; }
  // "stdin", or "file:" and the absolute path: the dead letters' source.
  const std::string& source() const { return source_; }
  // After the reader's end: kDataLoss when a gzip file ends before its end (cut off).
  absl::Status CheckComplete();

 private:
  LineInput() = default;
  int fd_ = -1;
  bool owns_fd_ = false;  // Not stdin's.
  std::unique_ptr<GzipFile> gzip_;
  std::unique_ptr<LineReader> reader_;
  std::string source_;
};

// Feeds every line of `reader` to `ingestor` and flushes at the end. Blank lines are skipped.
// Compressed bytes (gzip's magic at the start of the first line: a .gz file piped in) are
// refused before anything is stored (kFailedPrecondition). Returns the first read or commit
// error; what was committed before it stays committed, and re-running over the same input
// stores nothing twice.
absl::Status IngestLines(LineReader& reader, Ingestor& ingestor,
                         const ProgressCallback& progress = nullptr);

struct InputIngestResult {
  absl::Status status;  // The first read or commit error, or a cut-off input; OK at its end.
  IngestStats stats;    // What was committed, also before an error.
};

// `ingest --from FILE|-`: every line of `input` through an Ingestor on `sink` with `options`
// (naming the input in dead letters), as IngestLines does, then checks the input was complete.
InputIngestResult IngestInput(LineInput& input, EventSink& sink, IngestOptions options,
                              const ProgressCallback& progress = nullptr);

}  // namespace bikestream
