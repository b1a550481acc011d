#include "common/file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "common/limits.h"

namespace bikestream {
namespace {

std::string ErrnoText(int error) { return std::generic_category().message(error); }

absl::Status Failed(std::string_view what, const std::string& path, int error) {
  return absl::UnavailableError(fmt::format("cannot {} {}: {}", what, path, ErrnoText(error)));
}

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

}  // namespace

absl::Status CannotRead(std::string_view shown_path, int error) {
  const std::string message = fmt::format("cannot read '{}': {}", shown_path, ErrnoText(error));
  return error == ENOENT ? absl::NotFoundError(message) : absl::UnavailableError(message);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return absl::NotFoundError(fmt::format("no file {}", path));
    return Failed("read", path, errno);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return Failed("read", path, errno);
  if (!S_ISREG(info.st_mode))
    return absl::UnavailableError(fmt::format("cannot read {}: not a regular file", path));
  const auto too_large = [&] {
    return absl::ResourceExhaustedError(
        fmt::format("cannot read {}: it holds more than {}, more than such a file may", path,
                    limits::BytesText(max_bytes)));
  };
  if (static_cast<std::uint64_t>(info.st_size) > max_bytes) return too_large();
  std::string contents;
  char buffer[1 << 16];
  for (;;) {  // The file may grow as it is read.
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Failed("read", path, errno);
    if (got == 0) return contents;
    if (contents.size() + static_cast<std::size_t>(got) > max_bytes) return too_large();
    contents.append(buffer, static_cast<std::size_t>(got));
  }
}

std::string ResolvedPath(const std::string& path) {
  // weakly_canonical stops at a link whose target does not exist yet (a state file before its
  // first save): follow links by hand first, as the kernel would (at most 40).
  std::filesystem::path followed = path;
  std::error_code error;
  for (int hops = 0; hops < 40 && std::filesystem::is_symlink(followed, error); ++hops) {
    const std::filesystem::path target = std::filesystem::read_symlink(followed, error);
    if (error) return path;
    followed = target.is_absolute() ? target : followed.parent_path() / target;
  }
  std::filesystem::path resolved = std::filesystem::weakly_canonical(followed, error);
  return error || resolved.empty() ? path : resolved.string();
}

absl::Status ReplaceFile(const std::string& link, std::string_view contents) {
  const std::string path = ResolvedPath(link);
  std::string temporary = fmt::format("{}.tmp.XXXXXX", path);
  {
    UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC));
    if (fd.get() < 0) return Failed("write", temporary, errno);
    if (::fchmod(fd.get(), 0644) != 0 || !WriteAll(fd.get(), contents) || ::fsync(fd.get()) != 0 ||
        fd.Close() != 0) {
      const int error = errno;
      ::unlink(temporary.c_str());
      return Failed("write", temporary, error);
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return Failed("replace", path, error);
  }
  // The rename itself is durable once the directory is synced.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const char* directory = parent.empty() ? "." : parent.c_str();
  UniqueFd dir(::open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) return Failed("sync the directory of", path, errno);
  return absl::OkStatus();
}

absl::StatusOr<FileLock> FileLock::TryAcquire(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Failed("open", path, errno);
  FileLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
  if (errno == EWOULDBLOCK)
    return absl::FailedPreconditionError(fmt::format("{} is locked by another process", path));
  return Failed("lock", path, errno);
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // Closing the only descriptor of the open file drops its lock.
}

}  // namespace bikestream
