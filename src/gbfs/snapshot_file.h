// A file of recorded GBFS snapshots: one JSON document a line, gzip-compressed or not (zlib
// reads both).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace bikestream::gbfs {

// Calls `visit` with each non-empty line of the file at `path`, in order (without its '\n');
// stops early when `visit` returns false. kNotFound for a missing file; kDataLoss for a .gz
// file that ends before its end (a truncated download), after the lines before it.
absl::Status ForEachSnapshotLine(const std::string& path, const std::function<bool(std::string_view line)>& visit);

}  // namespace bikestream::gbfs
