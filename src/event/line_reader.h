// Reads lines — from a file descriptor, or from any source of bytes (a gzip file) — in large
// chunks, handing out views into its buffer.
//
// Memory stays bounded whatever the input: a line longer than `max_line_bytes` is handed out
// cut to that length with `truncated` set, and the rest of it skipped; each byte is looked at
// once, however long its line. A trailing line without a newline is still a line; `\r\n`
// endings lose their `\r`. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bikestream {

struct Line {
  std::string_view text;   // Valid until the next call to Next().
  std::uint64_t number;    // 1-based line number in the input.
  bool truncated = false;  // The line was longer than max_line_bytes.
};

class LineReader {
 public:
  // Fills `out` with up to `size` bytes and says how many; 0 at the end of input. Its error
  // (e.g. kCancelled, to obey a stop between two chunks of a long line) ends the read.
  using ReadBytes = std::function<absl::StatusOr<std::size_t>(char* out, std::size_t size)>;

  // Reads `fd` (not owned).
  LineReader(int fd, std::size_t max_line_bytes);
  LineReader(ReadBytes read, std::size_t max_line_bytes);

  // The next line, or std::nullopt at the end of input. A read error is a Status.
  absl::StatusOr<std::optional<Line>> Next();

  // On a reader of a file descriptor: while no input arrives for `idle_millis`, calls
  // `on_idle` (e.g. to commit what is staged from a slow pipe) before waiting on; its error
  // ends the read.
  void SetIdleHook(int idle_millis, std::function<absl::Status()> on_idle) {
    idle_millis_ = idle_millis;
    on_idle_ = std::move(on_idle);
  }

 private:
  absl::Status Fill();
  Line MakeLine(std::string_view text);
  absl::StatusOr<std::optional<Line>> TruncatedLine();

  int fd_ = -1;  // -1 when the bytes come from elsewhere.
  ReadBytes read_;
  std::size_t max_line_bytes_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // Start of unconsumed data in buffer_.
  std::size_t end_ = 0;    // End of valid data in buffer_.
  bool eof_ = false;
  std::uint64_t line_number_ = 0;
  std::string overflow_;  // Holds the prefix of a truncated line.
  int idle_millis_ = -1;
  std::function<absl::Status()> on_idle_;
};

}  // namespace bikestream
