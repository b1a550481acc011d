// Feature files: the defaults, and errors that name the line and the field.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "features/aggregates.h"
#include "features/feature_spec.h"

namespace bikestream {
namespace {

struct BadFile {
  const char* toml;
  const char* expected;  // In the error message.
};

TEST(FeatureFile, ErrorsNameTheLineAndTheField) {
  const BadFile cases[] = {
      {"[[feature]]\nname = \"x\"\nwindow = \"2h\"\naggregate = \"median\"\n",
       "f.toml:4: feature 'x': field 'aggregate'"},
      {"[[feature]]\nname = \"x\"\nwindow = \"2 hours\"\naggregate = \"count\"\n",
       "f.toml:3: feature 'x': field 'window'"},
      {"[[feature]]\nname = \"Bad Name\"\nwindow = \"2h\"\naggregate = \"count\"\n",
       "f.toml:2: field 'name'"},
      {"[[feature]]\nname = \"as_of\"\nwindow = \"2h\"\naggregate = \"count\"\n",
       "f.toml:2: feature name 'as_of' is a column of every training set"},
      {"[[feature]]\nname = \"x\"\nwindow = \"2h\"\naggregate = \"count\"\nkind = \"repair\"\n",
       "f.toml:5: feature 'x': field 'kind'"},
      {"[[feature]]\nname = \"x\"\nwindow = \"2h\"\naggregate = \"count\"\ncolour = 1\n",
       "f.toml:5: unknown field 'colour'"},
      {"[[feature]]\nname = \"x\"\nwindow = \"2h\"\naggregate = \"count\"\nshare = 0.2\n",
       "f.toml:5: feature 'x': field 'share'"},
      {"[[feature]]\nname = \"x\"\naggregate = \"count\"\n", "missing field 'window'"},
      {"[[feature]]\nname = \"x\"\nwindow = \"2h\"\naggregate = \"count\"\n[[feature]]\nname = "
       "\"x\"\nwindow = \"1h\"\naggregate = \"count\"\n",
       "declared twice"},
      {"name = \"x\"\n", "no features"},
      // One range of windows on every engine: 584,000 years was once computed as 16 hours.
      {"[[feature]]\nname = \"ages\"\nwindow = \"213503983d\"\naggregate = \"count\"\n",
       "f.toml:3: feature 'ages': field 'window' must be a duration from 1s to 366d"},
      {"[[feature]]\nname = \"decade\"\nwindow = \"3660d\"\naggregate = \"count\"\n",
       "f.toml:3: feature 'decade': field 'window' must be a duration from 1s to 366d"},
      {"[[feature]]\nname = \"nothing\"\nwindow = \"0s\"\naggregate = \"count\"\n",
       "f.toml:3: feature 'nothing': field 'window' must be a duration from 1s to 366d"},
      {"[[feature]\nname = 1\n", "f.toml:1:"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseFeatureFile(c.toml, "f.toml");
    ASSERT_FALSE(parsed.ok()) << c.toml;
    EXPECT_NE(std::string(parsed.status().message()).find(c.expected), std::string::npos)
        << parsed.status().message() << "\nexpected: " << c.expected;
  }
}

TEST(FeatureFile, WindowsAtTheEndsOfTheRangeLoad) {
  auto parsed = ParseFeatureFile(
      "[[feature]]\nname = \"second\"\nwindow = \"1s\"\naggregate = \"count\"\n"
      "[[feature]]\nname = \"year\"\nwindow = \"366d\"\naggregate = \"sum\"\n",
      "f.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)[0].window, kMinWindow);
  EXPECT_EQ((*parsed)[1].window, kMaxWindow);
}

TEST(FeatureFile, TheDefaultIsDesignsTable) {
  auto defaults = DefaultFeatures();
  ASSERT_EQ(defaults.size(), 4u);
  EXPECT_EQ(defaults[0].name, "pickup_count");
  EXPECT_EQ(defaults[0].window_len, "2h");
  EXPECT_EQ(defaults[2].name, "avg_delta_pickup");
  EXPECT_EQ(defaults[2].window_len, "24h");
  EXPECT_EQ(defaults[3].name, "is_peak_station");
  EXPECT_EQ(defaults[3].window_len, "all_time");
}

// docs/features.md's table of aggregates is the table of aggregates.cc: a row for each, its
// rows as the table says.
TEST(Aggregates, TheDocsHaveARowForEachAsTheTableSays) {
  auto docs = ReadWholeFile(BIKESTREAM_TEST_DATA "/../docs/features.md", 1 << 20);
  ASSERT_TRUE(docs.ok()) << docs.status();
  for (const AggregateInfo& info : Aggregates()) {
    SCOPED_TRACE(info.name);
    const std::size_t row = docs->find(fmt::format("| `{}` |", info.name));
    ASSERT_NE(row, std::string::npos);
    const std::string line = docs->substr(row, docs->find('\n', row) - row);
    EXPECT_EQ(line.ends_with("| every known station (0 over none) |") ||
                  line.ends_with("| every known station |"),
              info.every_station);
    EXPECT_EQ(&AggregateOf(info.aggregate), &info);
  }
  EXPECT_EQ(AggregateNames(), "count, sum, avg, min, max or top_share");
}

}  // namespace
}  // namespace bikestream
