// How a Spanner write is cut into transactions within Spanner's limits (commit_parts.h): worked
// by hand, no emulator needed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "warehouse/spanner/commit_parts.h"

namespace bikestream::spanner {
namespace {

DeadLetter LetterOf(std::size_t payload_bytes) {
  return DeadLetter{
      .source = "test", .message_id = "m", .payload = std::string(payload_bytes, 'x')};
}

std::size_t MutationsOf(const CommitPart& part) {
  return part.events.count * kEventInsertMutations +
         part.letters.count * kDeadLetterInsertMutations +
         part.resolved.count * kDeadLetterDeleteMutations;
}

TEST(SpannerCommitParts, EventsPastOneCommitsMutationsGoInPartsInOrder) {
  const auto parts = PlanCommitParts(10, {}, 0, {.mutations = 3 * kEventInsertMutations});
  ASSERT_EQ(parts.size(), 4u);
  for (std::size_t k = 0; k < parts.size(); ++k) {
    EXPECT_EQ(parts[k].events.from, 3 * k);
    EXPECT_EQ(parts[k].events.count, k < 3 ? 3u : 1u);
    EXPECT_EQ(parts[k].letters.count + parts[k].resolved.count, 0u);
  }
}

TEST(SpannerCommitParts, AWriteOfNothingIsOneEmptyPartAndOfOneBatchOnePart) {
  const auto none = PlanCommitParts(0, {}, 0, {});
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(MutationsOf(none[0]), 0u);
  // A broker's default batch of 10,000 with a tenth bad: 130,000 mutations, two transactions.
  const std::vector<DeadLetter> letters(1'000, LetterOf(200));
  const auto batch = PlanCommitParts(9'000, letters, 0, {});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_LE(MutationsOf(batch[0]), 80'000u);
  EXPECT_EQ(batch[0].events.count + batch[1].events.count, 9'000u);
  EXPECT_EQ(batch[0].letters.count + batch[1].letters.count, 1'000u);
  const auto small = PlanCommitParts(500, std::span(letters).first(10), 0, {});
  EXPECT_EQ(small.size(), 1u);
}

TEST(SpannerCommitParts, EveryPartKeepsToTheLimitsAndResolvedLettersGoAfterEveryEvent) {
  const CommitLimits limits{.mutations = 100, .dead_letter_bytes = 1'000};
  std::vector<DeadLetter> letters;
  for (std::size_t size : {10, 500, 600, 2'000, 10, 10}) letters.push_back(LetterOf(size));
  const auto parts = PlanCommitParts(17, letters, 40, limits);
  std::size_t events = 0, kept = 0, resolved = 0;
  std::size_t last_event_part = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const CommitPart& part = parts[k];
    // Each range goes on where the last part's ended.
    for (const auto& [range, so_far] :
         {std::pair(part.events, events), std::pair(part.letters, kept),
          std::pair(part.resolved, resolved)}) {
      EXPECT_TRUE(range.count == 0 || range.from == so_far) << "part " << k;
    }
    EXPECT_GT(MutationsOf(part), 0u) << "part " << k << " is empty";
    EXPECT_LE(MutationsOf(part), limits.mutations) << "part " << k;
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < part.letters.count; ++i) {
      bytes += DeadLetterBytes(letters[part.letters.from + i]);
    }
    // A letter larger than the limit alone is a part of its own.
    EXPECT_TRUE(bytes <= limits.dead_letter_bytes || part.letters.count == 1) << "part " << k;
    if (part.events.count > 0) last_event_part = k;
    if (part.resolved.count > 0) {
      EXPECT_EQ(events + part.events.count, 17u) << "part " << k;
    }
    events += part.events.count;
    kept += part.letters.count;
    resolved += part.resolved.count;
  }
  EXPECT_EQ(events, 17u);
  EXPECT_EQ(kept, letters.size());
  EXPECT_EQ(resolved, 40u);
  EXPECT_EQ(parts[last_event_part].events.from + parts[last_event_part].events.count, 17u);
}

FeatureTick TickOf(TimestampMicros as_of, const std::vector<std::pair<std::string, int>>& counts) {
  FeatureTick tick{.as_of = as_of};
  for (const auto& [name, stations] : counts) {
    for (int s = 0; s < stations; ++s) tick.rows.push_back({fmt::format("S{}", s), name, "1h", 1});
  }
  return tick;
}

std::size_t MutationsOf(const FeatureTransaction& t, const StoredFeatureCounts& stored) {
  std::size_t mutations = t.rows.size() * kFeatureRowWriteMutations;
  for (TimestampMicros as_of : t.as_ofs) {
    for (const std::string& name : t.names) {
      auto found = stored.find({as_of, name});
      if (found != stored.end()) mutations += found->second * kFeatureRowDeleteMutations;
    }
  }
  return mutations;
}

TEST(SpannerFeatureWrites, RunsOfWholeTicksCountTheStoredRowsTheyDelete) {
  const std::vector<std::string> names = {"a", "b"};
  const std::vector<FeatureTick> ticks = {TickOf(1, {{"a", 2}, {"b", 2}}),
                                          TickOf(2, {{"a", 2}, {"b", 2}}), TickOf(3, {{"a", 1}})};
  // Without stored rows the three ticks fit one commit; tick 2 rewritten over 8 stored rows
  // does not fit beside the others.
  const CommitLimits limits{.mutations = 9 * kFeatureRowWriteMutations};
  auto fresh = PlanFeatureWrites(ticks, names, {}, limits);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_EQ(fresh->size(), 1u);
  EXPECT_EQ(fresh->front().as_ofs, (std::vector<TimestampMicros>{1, 2, 3}));
  EXPECT_EQ(fresh->front().names, names);
  EXPECT_EQ(fresh->front().rows.size(), 9u);

  const StoredFeatureCounts stored = {{{2, "a"}, 4}, {{2, "b"}, 4}};
  auto rewrite = PlanFeatureWrites(ticks, names, stored, limits);
  ASSERT_TRUE(rewrite.ok()) << rewrite.status();
  ASSERT_EQ(rewrite->size(), 2u);
  EXPECT_EQ(rewrite->at(0).as_ofs, (std::vector<TimestampMicros>{1}));
  EXPECT_EQ(rewrite->at(1).as_ofs, (std::vector<TimestampMicros>{2, 3}));
  for (const FeatureTransaction& t : *rewrite) EXPECT_LE(MutationsOf(t, stored), limits.mutations);
}

TEST(SpannerFeatureWrites, ATickPastOneCommitGoesInWholeFeaturesEvenAfterAnEmptyTick) {
  const std::vector<std::string> names = {"a", "b", "c"};
  const std::vector<FeatureTick> ticks = {TickOf(1, {}), TickOf(2, {{"a", 6}, {"b", 2}})};
  const StoredFeatureCounts stored = {{{2, "a"}, 6}, {{2, "c"}, 3}};
  const CommitLimits limits{.mutations = 4 * kFeatureRowWriteMutations};
  auto plan = PlanFeatureWrites(ticks, names, stored, limits);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_GE(plan->size(), 3u);
  EXPECT_EQ(plan->front().as_ofs, (std::vector<TimestampMicros>{1}));  // The empty tick alone.
  std::map<std::string, int> deleted, written;
  for (std::size_t i = 1; i < plan->size(); ++i) {
    const FeatureTransaction& t = plan->at(i);
    EXPECT_EQ(t.as_ofs, (std::vector<TimestampMicros>{2}));
    EXPECT_LE(MutationsOf(t, stored), limits.mutations) << "transaction " << i;
    for (const std::string& name : t.names) ++deleted[name];
    for (const TickRow& row : t.rows) {
      ++written[row.row->feature_name];
      // A feature's rows come in or after the transaction that deletes it.
      EXPECT_GT(deleted[row.row->feature_name], 0) << row.row->feature_name;
    }
  }
  EXPECT_EQ(deleted, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}}));
  EXPECT_EQ(written, (std::map<std::string, int>{{"a", 6}, {"b", 2}}));
}

TEST(SpannerFeatureWrites, AFeatureWhoseStoredRowsArePastOneCommitIsRefusedSayingSo) {
  const StoredFeatureCounts stored = {{{1, "a"}, 100}};
  auto plan = PlanFeatureWrites({TickOf(1, {{"a", 1}})}, {"a"}, stored, {.mutations = 100});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("feature a has 100 rows"), std::string::npos)
      << plan.status();
}

}  // namespace
}  // namespace bikestream::spanner
