#include "gbfs/snapshot_file.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <system_error>

namespace bikestream::gbfs {
namespace {

struct CloseGz {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, CloseGz>;

// What one read decodes at most: a stop waits for no more than this (a few milliseconds).
constexpr std::size_t kChunkBytes = 1 << 20;

}  // namespace

absl::Status ForEachSnapshotLine(const std::string& path, const std::function<bool(const Line& line)>& visit,
                                 const std::function<bool()>& stop, std::size_t max_line_bytes) {
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) {
    const int error = errno;
    const std::string message = fmt::format("cannot read '{}': {}", path, std::generic_category().message(error));
    return error == ENOENT ? absl::NotFoundError(message) : absl::UnavailableError(message);
  }
  LineReader reader(
      [&](char* out, std::size_t size) -> absl::StatusOr<std::size_t> {
        if (stop()) return absl::CancelledError("stopped");
        const int read = gzread(file.get(), out, static_cast<unsigned>(std::min(size, kChunkBytes)));
        if (read >= 0) return static_cast<std::size_t>(read);
        int code = 0;
        const char* message = gzerror(file.get(), &code);
        return absl::DataLossError(fmt::format("'{}' is damaged: {}", path, message ? message : "read failed"));
      },
      max_line_bytes);
  for (;;) {
    auto line = reader.Next();
    if (absl::IsCancelled(line.status())) return absl::OkStatus();
    if (!line.ok()) return line.status();
    if (!line->has_value()) break;
    if ((*line)->text.empty()) continue;
    if (stop() || !visit(**line)) return absl::OkStatus();
  }
  // zlib stops quietly at a cut-off stream: say so, after what could be read.
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code == Z_BUF_ERROR) return absl::DataLossError(fmt::format("'{}' ends before its end (truncated?)", path));
  return absl::OkStatus();
}

}  // namespace bikestream::gbfs
