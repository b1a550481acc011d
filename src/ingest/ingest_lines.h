// Ingests JSON lines (a file or stdin) until the end of input.
#pragma once

#include <functional>

#include "event/line_reader.h"
#include "ingest/ingestor.h"

namespace bikestream {

// Called after each commit, so a terminal can show progress.
using ProgressCallback = std::function<void(const IngestStats&)>;

// Feeds every line of `reader` to `ingestor` and flushes at the end. Blank lines are skipped.
// Returns the first read or commit error; what was committed before it stays committed, and
// re-running over the same input stores nothing twice.
absl::Status IngestLines(LineReader& reader, Ingestor& ingestor,
                         const ProgressCallback& progress = nullptr);

}  // namespace bikestream
