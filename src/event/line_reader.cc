#include "event/line_reader.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

namespace bikestream {
namespace {
constexpr std::size_t kReadChunkBytes = 1 << 20;
}  // namespace

LineReader::LineReader(int fd, std::size_t max_line_bytes)
    : LineReader(
          [fd](char* out, std::size_t size) -> absl::StatusOr<std::size_t> {
            for (;;) {
              const ssize_t n = ::read(fd, out, size);
              if (n >= 0) return static_cast<std::size_t>(n);
              // Not std::strerror: its buffer is shared by every thread.
              if (errno != EINTR) {
                return absl::UnavailableError(
                    fmt::format("read failed: {}", std::generic_category().message(errno)));
              }
            }
          },
          max_line_bytes) {
  fd_ = fd;
}

LineReader::LineReader(ReadBytes read, std::size_t max_line_bytes)
    : read_(std::move(read)),
      max_line_bytes_(max_line_bytes),
      buffer_(max_line_bytes + kReadChunkBytes) {}

absl::Status LineReader::Fill() {
  // Move the unconsumed tail to the front so a whole line of max_line_bytes always fits.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) return absl::OkStatus();
  if (on_idle_ && fd_ >= 0) {
    pollfd readable{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&readable, 1, idle_millis_) == 0) {
      if (auto status = on_idle_(); !status.ok()) return status;
    }
  }
  auto n = read_(buffer_.data() + end_, buffer_.size() - end_);
  if (!n.ok()) return n.status();
  if (*n == 0) eof_ = true;
  end_ += *n;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Line>> LineReader::Next() {
  std::size_t scanned = begin_;  // Bytes before this index hold no newline.
  while (true) {
    const char* data = buffer_.data();
    if (const void* newline = std::memchr(data + scanned, '\n', end_ - scanned)) {
      std::size_t stop = static_cast<const char*>(newline) - data;
      std::string_view text(data + begin_, stop - begin_);
      begin_ = stop + 1;
      return MakeLine(text);
    }
    if (end_ - begin_ > max_line_bytes_) return TruncatedLine();
    if (eof_) {
      if (end_ == begin_) return std::nullopt;
      std::string_view text(data + begin_, end_ - begin_);
      begin_ = end_;
      return MakeLine(text);
    }
    std::size_t unscanned_offset = end_ - begin_;
    if (auto status = Fill(); !status.ok()) return status;
    scanned = begin_ + unscanned_offset;
  }
}

Line LineReader::MakeLine(std::string_view text) {
  Line line{text, ++line_number_, text.size() > max_line_bytes_};
  if (line.truncated) {
    line.text = text.substr(0, max_line_bytes_);
  } else if (!text.empty() && text.back() == '\r') {
    line.text.remove_suffix(1);
  }
  return line;
}

absl::StatusOr<std::optional<Line>> LineReader::TruncatedLine() {
  // The prefix must outlive the reads that skip the rest of the line.
  overflow_.assign(buffer_.data() + begin_, max_line_bytes_);
  begin_ = end_;
  while (true) {
    if (auto status = Fill(); !status.ok()) return status;
    if (const void* newline = std::memchr(buffer_.data(), '\n', end_)) {
      begin_ = static_cast<const char*>(newline) - buffer_.data() + 1;
      break;
    }
    begin_ = end_;
    if (eof_) break;
  }
  return Line{overflow_, ++line_number_, true};
}

}  // namespace bikestream
