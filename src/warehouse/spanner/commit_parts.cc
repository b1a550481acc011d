#include "warehouse/spanner/commit_parts.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

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

// The stored rows of `name` at `as_of`.
std::size_t StoredOf(const StoredFeatureCounts& stored, TimestampMicros as_of,
                     const std::string& name) {
  auto found = stored.find({as_of, name});
  return found == stored.end() ? 0 : found->second;
}

// A tick past one commit: transactions of whole features, in the order of `names`.
absl::Status PlanPiecesOfTick(const FeatureTick& tick, const std::vector<std::string>& names,
                              const StoredFeatureCounts& stored, std::size_t budget,
                              std::vector<FeatureTransaction>& plan) {
  std::map<std::string_view, std::vector<const FeatureRow*>> rows_of;
  for (const FeatureRow& row : tick.rows) rows_of[row.feature_name].push_back(&row);
  std::size_t used = budget;  // Full: the first feature starts a transaction.
  auto start = [&] {
    plan.push_back({.as_ofs = {tick.as_of}});
    used = 0;
  };
  auto write = [&](const FeatureRow* row) {
    if (used + kFeatureRowWriteMutations > budget) start();  // A feature goes on here.
    plan.back().rows.push_back({tick.as_of, row});
    used += kFeatureRowWriteMutations;
  };
  for (const std::string& name : names) {
    const std::size_t deletes = StoredOf(stored, tick.as_of, name) * kFeatureRowDeleteMutations;
    if (deletes + kFeatureRowWriteMutations > budget) {
      return absl::ResourceExhaustedError(fmt::format(
          "Spanner: feature {} has {} rows at one tick, more than one commit deletes; write "
          "fewer stations a tick",
          name, deletes / kFeatureRowDeleteMutations));
    }
    if (used + deletes + kFeatureRowWriteMutations > budget) start();
    plan.back().names.push_back(name);
    used += deletes;
    auto rows = rows_of.extract(name);
    if (!rows.empty()) std::for_each(rows.mapped().begin(), rows.mapped().end(), write);
  }
  for (const auto& [name, rows] : rows_of) std::for_each(rows.begin(), rows.end(), write);
  return absl::OkStatus();
}

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

absl::StatusOr<std::vector<FeatureTransaction>> PlanFeatureWrites(
    const std::vector<FeatureTick>& ticks, const std::vector<std::string>& names,
    const StoredFeatureCounts& stored, const CommitLimits& limits) {
  std::vector<FeatureTransaction> plan;
  std::size_t used = 0;
  bool run_open = false;  // plan.back() is a run of whole ticks that may take more.
  for (const FeatureTick& tick : ticks) {
    std::size_t cost = tick.rows.size() * kFeatureRowWriteMutations;
    for (const std::string& name : names) {
      cost += StoredOf(stored, tick.as_of, name) * kFeatureRowDeleteMutations;
    }
    if (cost > limits.mutations) {
      if (absl::Status planned = PlanPiecesOfTick(tick, names, stored, limits.mutations, plan);
          !planned.ok()) {
        return planned;
      }
      run_open = false;
      continue;
    }
    if (!run_open || used + cost > limits.mutations) {
      plan.push_back({.names = names});
      used = 0;
      run_open = true;
    }
    plan.back().as_ofs.push_back(tick.as_of);
    for (const FeatureRow& row : tick.rows) plan.back().rows.push_back({tick.as_of, &row});
    used += cost;
  }
  return plan;
}

}  // namespace bikestream::spanner
