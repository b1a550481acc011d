// The labels CSV of `training-set --labels`: what each input gives, row by row, and the error
// that names the line and the fix.
#include "features/labels.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/limits.h"

namespace bikestream {
namespace {

constexpr TimestampMicros kNoon = 1'731'758'400'000'000;  // 2024-11-16T12:00:00Z.

// A reader over `text`, as the file would give it.
LineReader ReaderOf(const std::string& text) {
  return LineReader(
      [text, at = std::size_t{0}](char* out,
                                  std::size_t size) mutable -> absl::StatusOr<std::size_t> {
        const std::size_t n = std::min(size, text.size() - at);
        std::memcpy(out, text.data() + at, n);
        at += n;
        return n;
      },
      limits::kLabelsLine);
}

struct ParsedCase {
  const char* name;
  std::string text;
  std::vector<std::string> columns;
  std::vector<LabelRow> rows;
};

TEST(ParseLabels, GivesEveryRowItsStationInstantAndLabels) {
  const ParsedCase cases[] = {
      {"header only", "station_id,ts\n", {}, {}},
      {"no label columns", "station_id,ts\nS1,2024-11-16T12:00:00Z\n", {}, {{"S1", kNoon, {}}}},
      {"labels kept as text",
       "station_id,ts,demand,weather\nS1,2024-11-16T12:00:00Z,3,rain\n",
       {"demand", "weather"},
       {{"S1", kNoon, {"3", "rain"}}}},
      {"quoted fields, a comma and a quote inside",
       "station_id,ts,note\n\"S,1\",2024-11-16T12:00:00Z,\"said \"\"hi\"\"\"\n",
       {"note"},
       {{"S,1", kNoon, {"said \"hi\""}}}},
      {"CRLF endings and blank lines",
       "station_id,ts,y\r\n\r\nS1,2024-11-16T13:00:00+01:00,1\r\n\n",
       {"y"},
       {{"S1", kNoon, {"1"}}}},
      {"no newline at the end", "station_id,ts\nS2,2024-11-16T12:00:00Z", {}, {{"S2", kNoon, {}}}},
      {"empty label", "station_id,ts,y\nS1,2024-11-16T12:00:00Z,\n", {"y"}, {{"S1", kNoon, {""}}}},
  };
  for (const ParsedCase& c : cases) {
    SCOPED_TRACE(c.name);
    LineReader reader = ReaderOf(c.text);
    auto labels = ParseLabels(reader, "labels.csv");
    ASSERT_TRUE(labels.ok()) << labels.status();
    EXPECT_EQ(labels->columns, c.columns);
    ASSERT_EQ(labels->rows.size(), c.rows.size());
    for (std::size_t i = 0; i < c.rows.size(); ++i) {
      EXPECT_EQ(labels->rows[i].station_id, c.rows[i].station_id);
      EXPECT_EQ(labels->rows[i].ts, c.rows[i].ts);
      EXPECT_EQ(labels->rows[i].labels, c.rows[i].labels);
    }
  }
}

struct ErrorCase {
  const char* name;
  std::string text;
  std::string message;  // What the error says, from its start.
};

TEST(ParseLabels, NamesTheLineAndWhatIsWrong) {
  const ErrorCase cases[] = {
      {"empty", "", "labels.csv: empty; expected a header station_id,ts[,label…]"},
      {"header without ts", "station_id,label\nS1,1\n",
       "labels.csv:1: the header must start with station_id,ts"},
      {"header in another order", "ts,station_id\n",
       "labels.csv:1: the header must start with station_id,ts"},
      {"a field short", "station_id,ts,y\nS1,2024-11-16T12:00:00Z\n",
       "labels.csv:2: 2 fields, the header has 3"},
      {"a field too many", "station_id,ts\n\nS1,2024-11-16T12:00:00Z,9\n",
       "labels.csv:3: 3 fields, the header has 2"},
      {"not a timestamp", "station_id,ts\nS1,yesterday\n", "labels.csv:2: ts: "},
      {"a line past the bound",
       "station_id,ts\n" + std::string(limits::kLabelsLine + 1, 'x') + "\n",
       "labels.csv:2: a line longer than "},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    LineReader reader = ReaderOf(c.text);
    auto labels = ParseLabels(reader, "labels.csv");
    ASSERT_FALSE(labels.ok());
    EXPECT_EQ(labels.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(labels.status().message().substr(0, c.message.size()), c.message);
  }
}

TEST(SplitCsvRecord, FollowsRfc4180Quoting) {
  EXPECT_EQ(SplitCsvRecord(""), std::vector<std::string>{""});
  EXPECT_EQ(SplitCsvRecord("a,,b"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(SplitCsvRecord("\"a,b\",c"), (std::vector<std::string>{"a,b", "c"}));
  EXPECT_EQ(SplitCsvRecord("\"\"\"\""), std::vector<std::string>{"\""});
  EXPECT_EQ(SplitCsvRecord("a\r"), std::vector<std::string>{"a"});
}

TEST(ReadLabelsFile, RefusesWhatIsNotAFile) {
  auto directory = ReadLabelsFile("/");
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("is not a file"), std::string::npos);
  auto missing = ReadLabelsFile("/nonexistent/labels.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bikestream
