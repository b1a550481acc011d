#include "common/gzip_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>

#include "common/file.h"
#include "common/redact.h"

namespace bikestream {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;

gzFile AsGz(void* file) { return static_cast<gzFile>(file); }

}  // namespace

bool IsGzipFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  char start[2] = {};
  return ::pread(fd.get(), start, sizeof start, 0) == sizeof start &&
         StartsLikeGzip({start, sizeof start});
}

void GzipFile::Closer::operator()(void* file) const { gzclose(AsGz(file)); }

absl::StatusOr<GzipFile> GzipFile::Open(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return CannotRead(RedactUrl(path), errno);
  return GzipFile(path, file);
}

absl::StatusOr<std::size_t> GzipFile::Read(char* out, std::size_t size) {
  const int read =
      gzread(AsGz(file_.get()), out, static_cast<unsigned>(std::min(size, kChunkBytes)));
  if (read >= 0) return static_cast<std::size_t>(read);
  int code = 0;
  const char* message = gzerror(AsGz(file_.get()), &code);
  return absl::DataLossError(
      fmt::format("'{}' is damaged: {}", path_, message ? message : "read failed"));
}

absl::Status GzipFile::CheckComplete() {
  int code = Z_OK;
  gzerror(AsGz(file_.get()), &code);
  if (code == Z_BUF_ERROR)
    return absl::DataLossError(fmt::format("'{}' ends before its end (truncated?)", path_));
  return absl::OkStatus();
}

}  // namespace bikestream
