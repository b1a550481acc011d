// A file of recorded GBFS snapshots: one JSON document a line, gzip-compressed or not (zlib
// reads both).
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/limits.h"
#include "event/line_reader.h"

namespace bikestream::gbfs {

// Calls `visit` with each non-empty line of the file at `path`, in order (without its '\n'); a
// line longer than `max_line_bytes` (decoded) is handed on cut, with `truncated` set, and the
// rest of it skipped, so memory stays bounded whatever the file holds. Stops early when `visit`
// returns false, or once `stop()` turns true: that is asked between lines and between chunks of
// one long line, so a stop is obeyed within a fraction of a second. kNotFound for a missing
// file; kDataLoss for a .gz file that ends before its end (a truncated download), after the
// lines before it.
absl::Status ForEachSnapshotLine(
    const std::string& path, const std::function<bool(const Line& line)>& visit,
    const std::function<bool()>& stop = [] { return false; },
    std::size_t max_line_bytes = limits::kSnapshotLine);

}  // namespace bikestream::gbfs
