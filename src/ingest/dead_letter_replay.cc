#include "ingest/dead_letter_replay.h"

namespace bikestream {
namespace {
constexpr std::size_t kReplayPageSize = 10'000;
}  // namespace

absl::StatusOr<ReplayResult> ReplayDeadLetters(DeadLetterStore& store,
                                               const std::optional<std::string>& reason,
                                               const ValidationRules& rules) {
  EventParser parser(rules);
  ReplayResult result;
  DeadLetterFilter filter{.reason = reason, .after_id = 0, .limit = kReplayPageSize};
  while (true) {
    auto page = store.ListDeadLetters(filter);
    if (!page.ok()) return page.status();
    if (page->empty()) return result;
    std::vector<Event> events;
    std::vector<std::int64_t> resolved;
    for (DeadLetter& letter : *page) {
      ++result.examined;
      ParseResult parsed = parser.Parse(letter.payload);
      if (auto* event = std::get_if<Event>(&parsed)) {
        events.push_back(std::move(*event));
        resolved.push_back(letter.id);
      } else {
        ++result.still_invalid;
      }
    }
    filter.after_id = page->back().id;
    if (resolved.empty()) continue;
    auto committed = store.ResolveDeadLetters(events, resolved);
    if (!committed.ok()) return committed.status();
    result.stored += committed->stored;
    for (std::size_t i = 0; i < events.size(); ++i) {
      // An engine that does not say which were new: every one might have been.
      const bool is_new =
          committed->newly_stored.size() != events.size() || committed->newly_stored[i];
      if (is_new && committed->stored > 0 &&
          (!result.earliest_stored || events[i].ts < *result.earliest_stored)) {
        result.earliest_stored = events[i].ts;
      }
    }
    result.duplicates += committed->duplicates;
  }
}

}  // namespace bikestream
