#include "ingest/staged_ingest.h"

namespace bikestream {
namespace {

IngestOptions WithWriter(IngestOptions options, EventSink& writer) {
  options.concurrent_writers = {&writer};
  return options;
}

}  // namespace

StagedIngest::StagedIngest(EventSink& sink, EventSink& writer, IngestOptions options)
    : ingestor_(sink, WithWriter(std::move(options), writer)) {}

absl::Status StagedIngest::Stage(const std::vector<Event>& events) {
  if ((!failed_.ok() || ingestor_.has_waiting()) && !Flush().ok()) return failed_;
  for (const Event& event : events) {
    // Staged even when it fails: the error is an earlier batch's, which waits for Flush().
    if (absl::Status added = ingestor_.AddEvent(event); !added.ok()) failed_ = added;
  }
  if (absl::Status launched = ingestor_.LaunchIfIdle(); !launched.ok()) failed_ = launched;
  return absl::OkStatus();
}

absl::Status StagedIngest::Flush() {
  failed_ = ingestor_.Flush();
  return failed_;
}

}  // namespace bikestream
