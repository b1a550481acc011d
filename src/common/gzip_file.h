// A file read through zlib, decoded whether it is gzip-compressed or plain: what recorded
// feeds (`gbfs --file week.jsonl.gz`) and event files (`ingest --from events.jsonl.gz`) are.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bikestream {

// Whether `bytes` start with gzip's magic bytes (1f 8b): compressed data.
inline bool StartsLikeGzip(std::string_view bytes) {
  return bytes.size() >= 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b';
}

// Whether the file at `path` starts with gzip's magic bytes. False for what cannot be
// read, or is no regular file (a pipe is not to be read ahead of its reader).
bool IsGzipFile(const std::string& path);

class GzipFile {
 public:
  // kNotFound for a missing file; kUnavailable for one that cannot be opened. Messages name it.
  static absl::StatusOr<GzipFile> Open(const std::string& path);

  // Decodes up to `size` bytes into `out` (at most a mebibyte a call, so a caller between two
  // calls waits no longer than a few milliseconds): how many, 0 at the end. kDataLoss, naming
  // the file, when it is damaged.
  absl::StatusOr<std::size_t> Read(char* out, std::size_t size);

  // After Read() answered 0: kDataLoss when the stream ended before its end (a cut-off
  // download, which zlib otherwise reads as a quiet end).
  absl::Status CheckComplete();

  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(void* file) const;
  };
  GzipFile(std::string path, void* file) : path_(std::move(path)), file_(file) {}

  std::string path_;
  std::unique_ptr<void, Closer> file_;  // A gzFile.
};

}  // namespace bikestream
