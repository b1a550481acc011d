// Progress on a terminal: one line on stderr, rewritten in place a few times a second.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/time.h"
#include "ingest/ingestor.h"

namespace bikestream::cli {

// Shows a progress line on stderr when it is a terminal, at most a few times a second.
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();  // Ends the line, so later output starts on its own.
  void Update(const IngestStats& stats);
  // Shows `what` after the elapsed time, with `count` per second.
  void Show(std::string_view what, std::uint64_t count);
  void Done();  // Ends the line now.

 private:
  bool enabled_;
  bool printed_ = false;
  TimestampMicros start_;
  TimestampMicros last_;
};

}  // namespace bikestream::cli
