#include "gbfs/snapshot_file.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <memory>
#include <system_error>

namespace bikestream::gbfs {
namespace {

struct CloseGz {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, CloseGz>;

constexpr unsigned kChunkBytes = 1 << 16;

}  // namespace

absl::Status ForEachSnapshotLine(const std::string& path, const std::function<bool(std::string_view line)>& visit) {
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) {
    const int error = errno;
    const std::string message = fmt::format("cannot read '{}': {}", path, std::generic_category().message(error));
    return error == ENOENT ? absl::NotFoundError(message) : absl::UnavailableError(message);
  }
  std::string pending;
  char chunk[kChunkBytes];
  while (true) {
    const int read = gzread(file.get(), chunk, kChunkBytes);
    if (read < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      return absl::DataLossError(fmt::format("'{}' is damaged: {}", path, message ? message : "read failed"));
    }
    if (read == 0) break;
    pending.append(chunk, std::size_t(read));
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      if (end > start && !visit(std::string_view(pending).substr(start, end - start))) return absl::OkStatus();
    }
    pending.erase(0, start);
  }
  if (!pending.empty()) visit(pending);
  // zlib stops quietly at a cut-off stream: say so, after what could be read.
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code == Z_BUF_ERROR) return absl::DataLossError(fmt::format("'{}' ends before its end (truncated?)", path));
  return absl::OkStatus();
}

}  // namespace bikestream::gbfs
