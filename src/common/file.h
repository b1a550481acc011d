// Whole files, read at once or replaced at once. A replaced file is never seen half-written,
// not by a concurrent reader and not after the writer is killed or the machine loses power:
// state that a restart resumes from (GBFS --state, the job registry) is written so.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace bikestream {

// The file's bytes, at most `max_bytes` of them (common/limits.h). kNotFound when there is no
// such file; kUnavailable when it is not a regular file (a directory, a FIFO that would block,
// /dev/zero) or cannot be read; kResourceExhausted when it holds more than `max_bytes`. Each
// message names the path and the reason.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, std::size_t max_bytes);

// "cannot read 'PATH': REASON" for an open that failed with `error` (errno): kNotFound for a
// missing file, kUnavailable otherwise. `shown_path` is the path as safe to show (RedactUrl).
absl::Status CannotRead(std::string_view shown_path, int error);

// `path` with its symbolic links resolved, so that a link and its target name one file (one
// lock, one file replaced); a path that does not exist yet resolves as far as it exists. `path`
// itself when it cannot be resolved (a directory that cannot be read): opening it then fails
// with the reason.
std::string ResolvedPath(const std::string& path);

// Writes `contents` to a new FILE.tmp.XXXXXX (its own, even with two writers of FILE), syncs it,
// renames it over FILE and syncs the directory, where FILE is ResolvedPath(link): a symbolic
// link stays a link, to the new contents (a path that is no link is FILE itself). kUnavailable,
// naming the path and the reason, when a step fails: before the rename FILE is unchanged; after it
// (the directory's sync) FILE holds the new contents, which a power loss could still undo.
absl::Status ReplaceFile(const std::string& link, std::string_view contents);

// A file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  // Closes now, for the error a delayed write may report at close.
  int Close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// An exclusive lock on PATH (created if missing), held until the FileLock is destroyed or the
// process ends: the kernel drops it then, so a kill -9 leaves no stale lock behind. Advisory:
// it keeps out only those who take it too.
class FileLock {
 public:
  // kFailedPrecondition when someone else holds it (another process, or another FileLock of
  // this one); kUnavailable, naming the path and the reason, when PATH cannot be opened.
  static absl::StatusOr<FileLock> TryAcquire(const std::string& path);

  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace bikestream
