#include "warehouse/spanner/commit_parts.h"

#include <algorithm>

#include "warehouse/spanner/spanner_backend.h"

namespace bikestream::spanner {
namespace {

// Fills parts in order, starting a new one when the next row would pass a limit.
class PartPlanner {
 public:
  explicit PartPlanner(const CommitLimits& limits) : limits_(limits) {}

  // Adds one row to the range `member` of the current part (or of a new one).
  void Add(CommitPart::Range CommitPart::*member, std::size_t index, std::size_t mutations,
           std::size_t bytes = 0) {
    if (!empty_ && (mutations_ + mutations > limits_.mutations ||
                    bytes_ + bytes > limits_.dead_letter_bytes)) {
      parts_.push_back(current_);
      current_ = {};
      mutations_ = bytes_ = 0;
    }
    CommitPart::Range& range = current_.*member;
    if (range.count == 0) range.from = index;
    ++range.count;
    mutations_ += mutations;
    bytes_ += bytes;
    empty_ = false;
  }

  std::vector<CommitPart> Finish() && {
    parts_.push_back(current_);
    return std::move(parts_);
  }

 private:
  const CommitLimits limits_;
  std::vector<CommitPart> parts_;
  CommitPart current_;
  std::size_t mutations_ = 0;
  std::size_t bytes_ = 0;
  bool empty_ = true;
};

}  // namespace

std::size_t DeadLetterBytes(const DeadLetter& letter) {
  constexpr std::size_t kFixedColumns = 64;  // id, first_seen, publish_time and the row's keys.
  return std::min(letter.payload.size(), kMaxPayloadBytes) + letter.reason.size() +
         letter.error.size() + 2 * (letter.source.size() + letter.message_id.size()) +
         kFixedColumns;
}

std::vector<CommitPart> PlanCommitParts(std::size_t events, std::span<const DeadLetter> letters,
                                        std::size_t resolved, const CommitLimits& limits) {
  PartPlanner planner(limits);
  for (std::size_t i = 0; i < events; ++i) {
    planner.Add(&CommitPart::events, i, kEventInsertMutations);
  }
  for (std::size_t i = 0; i < letters.size(); ++i) {
    planner.Add(&CommitPart::letters, i, kDeadLetterInsertMutations, DeadLetterBytes(letters[i]));
  }
  for (std::size_t i = 0; i < resolved; ++i) {
    planner.Add(&CommitPart::resolved, i, kDeadLetterDeleteMutations);
  }
  return std::move(planner).Finish();
}

}  // namespace bikestream::spanner
