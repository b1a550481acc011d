// Whole files, read at once or replaced at once. A replaced file is never seen half-written,
// not by a concurrent reader and not after the writer is killed or the machine loses power:
// state that a restart resumes from (GBFS --state, the job registry) is written so.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bikestream {

// The file's bytes. kNotFound when there is no such file; kUnavailable when it cannot be read
// (a directory, no permission), the message naming the path and the reason.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Writes `contents` to PATH.tmp, syncs it, renames it over PATH and syncs the directory.
// kUnavailable, naming the path and the reason, when any step fails; PATH is then unchanged.
absl::Status ReplaceFile(const std::string& path, std::string_view contents);

}  // namespace bikestream
