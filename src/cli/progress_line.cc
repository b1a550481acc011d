#include "cli/progress_line.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "cli/output.h"
#include "common/clock.h"
#include "common/print.h"

namespace bikestream::cli {
namespace {

constexpr DurationMicros kProgressInterval = 250 * kMicrosPerMilli;

}  // namespace

ProgressLine::ProgressLine()
    : enabled_(isatty(STDERR_FILENO)), start_(SystemClock().Now()), last_(start_) {}

ProgressLine::~ProgressLine() { Done(); }

void ProgressLine::Done() {
  if (printed_) Print(stderr, "\n");
  printed_ = false;
  enabled_ = false;
}

void ProgressLine::Update(const IngestStats& stats) {
  Show(fmt::format("received {}  stored {}  duplicates {}  dead-lettered {}", stats.received,
                   stats.stored, stats.duplicates, stats.dead_lettered),
       stats.received);
}

void ProgressLine::Show(std::string_view what, std::uint64_t count) {
  if (!enabled_) return;
  const TimestampMicros now = SystemClock().Now();
  if (printed_ && now - last_ < kProgressInterval) return;
  last_ = now;
  printed_ = true;
  const double seconds = double(now - start_) / kMicrosPerSecond;
  Print(stderr, "\r{:.1f} s  {}  {:.0f}/s   ", seconds, what, seconds > 0 ? count / seconds : 0.0);
  std::fflush(stderr);
}

}  // namespace bikestream::cli
