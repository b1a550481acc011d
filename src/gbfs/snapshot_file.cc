#include "gbfs/snapshot_file.h"

#include "common/gzip_file.h"

namespace bikestream::gbfs {

absl::Status ForEachSnapshotLine(const std::string& path,
                                 const std::function<bool(const Line& line)>& visit,
                                 const std::function<bool()>& stop, std::size_t max_line_bytes) {
  auto file = GzipFile::Open(path);
  if (!file.ok()) return file.status();
  LineReader reader(
      [&](char* out, std::size_t size) -> absl::StatusOr<std::size_t> {
        if (stop()) return absl::CancelledError("stopped");
        return file->Read(out, size);
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
  return file->CheckComplete();
}

}  // namespace bikestream::gbfs
