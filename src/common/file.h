// Whole files, read at once or replaced at once. A replaced file is never seen half-written,
// not by a concurrent reader and not after the writer is killed or the machine loses power:
// state that a restart resumes from (GBFS --state, the job registry) is written so.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace bikestream {

// The file's bytes. kNotFound when there is no such file; kUnavailable when it is not a regular
// file (a directory, a FIFO that would block) or cannot be read, the message naming the path
// and the reason.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Writes `contents` to a new PATH.tmp.XXXXXX (its own, even with two writers of PATH), syncs it,
// renames it over PATH and syncs the directory. kUnavailable, naming the path and the reason,
// when a step fails: before the rename PATH is unchanged; after it (the directory's sync) PATH
// holds the new contents, which a power loss could still undo.
absl::Status ReplaceFile(const std::string& path, std::string_view contents);

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
