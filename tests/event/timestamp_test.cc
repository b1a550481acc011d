#include "event/timestamp.h"

#include <gtest/gtest.h>

namespace bikestream {
namespace {

struct ValidCase {
  const char* text;
  const char* utc;  // FormatRfc3339 of the parsed instant.
};

TEST(ParseRfc3339, AcceptsOffsetsAndFractions) {
  const ValidCase cases[] = {
      {"2025-10-18T16:24:11Z", "2025-10-18T16:24:11Z"},
      {"2025-10-22T19:44:58+00:00", "2025-10-22T19:44:58Z"},  // Python's isoformat().
      {"2025-10-22T19:44:58-00:00", "2025-10-22T19:44:58Z"},
      {"2025-10-22T21:44:58+02:00", "2025-10-22T19:44:58Z"},
      {"2025-10-22T14:14:58-05:30", "2025-10-22T19:44:58Z"},
      {"2025-10-22T00:30:00+01:00", "2025-10-21T23:30:00Z"},  // Crosses midnight.
      {"2025-01-01T00:00:00+00:01", "2024-12-31T23:59:00Z"},  // Crosses a year.
      {"2025-10-18T16:24:11.5Z", "2025-10-18T16:24:11.500000Z"},
      {"2025-10-18T16:24:11.123Z", "2025-10-18T16:24:11.123000Z"},
      {"2025-10-18T16:24:11.123456Z", "2025-10-18T16:24:11.123456Z"},
      {"2025-10-18T16:24:11.123456789Z", "2025-10-18T16:24:11.123456Z"},  // Truncated.
      {"2025-10-18t16:24:11z", "2025-10-18T16:24:11Z"},
      {"2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"},
      {"2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"},
      {"1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"},
      {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
      // The edges of the range, also reached through an offset.
      {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
      {"0001-01-01T00:00:00-23:59", "0001-01-01T23:59:00Z"},
      {"9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"},
      {"9999-12-31T23:59:59+23:59", "9999-12-31T00:00:59Z"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseRfc3339(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status();
    EXPECT_EQ(FormatRfc3339(*parsed), c.utc) << c.text;
  }
}

// What pandas' to_csv, PostgreSQL's psql and BigQuery's exports write, and what people type.
TEST(ParseTimestamp, AcceptsWhatToolsWrite) {
  const ValidCase cases[] = {
      {"2024-10-13T12:00:00Z", "2024-10-13T12:00:00Z"},
      {"2024-10-13 12:00:00+00:00", "2024-10-13T12:00:00Z"},  // pandas, tz-aware.
      {"2024-10-13 12:00:00", "2024-10-13T12:00:00Z"},        // pandas, naive: UTC.
      {"2024-10-13 12:00:00.250000+00:00", "2024-10-13T12:00:00.250000Z"},
      {"2024-10-13T12:00:00.5Z", "2024-10-13T12:00:00.500000Z"},
      {"2024-10-13 14:00:00+02", "2024-10-13T12:00:00Z"},  // psql.
      {"2024-10-13 14:00:00+0200", "2024-10-13T12:00:00Z"},
      {"2024-10-13 12:00:00 UTC", "2024-10-13T12:00:00Z"},  // BigQuery.
      {"2024-10-13 12:00:00.123456 UTC", "2024-10-13T12:00:00.123456Z"},
      {"2024-10-13T12:00", "2024-10-13T12:00:00Z"},
      {"2024-10-13", "2024-10-13T00:00:00Z"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseTimestamp(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status();
    EXPECT_EQ(FormatRfc3339(*parsed), c.utc) << c.text;
  }
}

TEST(ParseTimestamp, RejectsWhatNoToolWrites) {
  const char* cases[] = {"",
                         "now",
                         "13/10/2024",
                         "2024-10-13T",
                         "2024-10-13 12",
                         "2024-10-13 12:00:",
                         "2024-10-13 12:00:00 CET",
                         "2024-10-13 12:00:00+2",
                         "2024-02-30",
                         "2024-10-13 12:00:00.Z",
                         "2024-10-13 24:00:00",
                         "2024-10-13  12:00:00",
                         "2024-10-13 12:00.5"};
  for (const char* text : cases) EXPECT_FALSE(ParseTimestamp(text).ok()) << text;
}

TEST(ParseRfc3339, KnowsTheEpoch) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:01.000001Z"), 1'000'001);
  EXPECT_EQ(*ParseRfc3339("2025-10-18T16:24:11Z"), 1760804651LL * kMicrosPerSecond);
}

TEST(ParseRfc3339, RejectsImpossibleAndMalformedTimes) {
  const char* cases[] = {
      "2025-02-30T10:00:00Z",
      "2023-02-29T10:00:00Z",
      "1900-02-29T10:00:00Z",
      "2025-04-31T10:00:00Z",
      "2025-13-01T10:00:00Z",
      "2025-00-01T10:00:00Z",
      "2025-01-00T10:00:00Z",
      "2025-10-18T24:00:01Z",
      "2025-10-18T24:00:00Z",
      "2025-10-18T23:60:00Z",
      "2025-10-18T23:59:60Z",
      "2025-10-18T16:24:11",
      "2025-10-18 16:24:11Z",
      "2025-10-18T16:24Z",
      "2025-10-18T16:24:11+2:00",
      "2025-10-18T16:24:11+02",
      "2025-10-18T16:24:11+24:00",
      "2025-10-18T16:24:11+02:60",
      "2025-10-18T16:24:11.Z",
      "2025-10-18T16:24:11.1234567891Z",
      "25-10-18T16:24:11Z",
      "2025-10-18T16:24:11ZZ",
      "",
      "now",
      "0000-01-01T00:00:00Z",
      "２０２５-10-18T16:24:11Z",
  };
  for (const char* text : cases) {
    auto parsed = ParseRfc3339(text);
    EXPECT_FALSE(parsed.ok()) << "accepted '" << text << "' as " << FormatRfc3339(*parsed);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

// Year 0 or 10000 once the offset is applied: outside the one range every warehouse stores
// (PostgreSQL refused year 0 and stalled its whole batch).
TEST(ParseRfc3339, RejectsInstantsOutsideTheRangeInUtc) {
  for (const char* text : {"0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00+00:01",
                           "0001-01-01T00:00:00.999999+00:01", "9999-12-31T23:59:59-00:01",
                           "9999-12-31T23:30:00-23:59"}) {
    auto parsed = ParseRfc3339(text);
    ASSERT_FALSE(parsed.ok()) << "accepted '" << text << "' as " << FormatRfc3339(*parsed);
    EXPECT_NE(parsed.status().message().find("outside the supported range"), std::string::npos)
        << parsed.status();
  }
  EXPECT_TRUE(InTimestampRange(kMinTimestamp));
  EXPECT_TRUE(InTimestampRange(kMaxTimestamp));
  EXPECT_FALSE(InTimestampRange(kMinTimestamp - 1));
  EXPECT_FALSE(InTimestampRange(kMaxTimestamp + 1));
  EXPECT_EQ(FormatRfc3339(kMinTimestamp), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(kMaxTimestamp), "9999-12-31T23:59:59.999999Z");
}

TEST(ParseRfc3339, SaysWhichPartIsWrong) {
  EXPECT_NE(ParseRfc3339("2025-10-18T16:24:11").status().ToString().find("missing UTC offset"),
            std::string::npos);
  EXPECT_NE(ParseRfc3339("2025-02-30T10:00:00Z").status().ToString().find("no such date"),
            std::string::npos);
  EXPECT_NE(ParseRfc3339("2025-10-18T24:00:01Z").status().ToString().find("no such time"),
            std::string::npos);
}

TEST(ParseDuration, AcceptsUnitsAndSums) {
  EXPECT_EQ(*ParseDuration("90s"), 90 * kMicrosPerSecond);
  EXPECT_EQ(*ParseDuration("15m"), 900 * kMicrosPerSecond);
  EXPECT_EQ(*ParseDuration("2h"), 7200 * kMicrosPerSecond);
  EXPECT_EQ(*ParseDuration("7d"), 7 * 86400 * kMicrosPerSecond);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400 * kMicrosPerSecond);
  for (const char* bad : {"", "15", "m", "15x", "-5m", "1.5h"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

// A duration whose microseconds would overflow is refused, never wrapped: "213503983d"
// (584,000 years) was once read as 16 hours.
TEST(ParseDuration, ATooLongDurationIsRefusedNotWrapped) {
  EXPECT_EQ(*ParseDuration("100000d"), kMaxDuration);
  EXPECT_EQ(*ParseDuration("99999d86400s"), kMaxDuration);
  for (const char* too_long : {"100001d", "99999d86401s", "213503983d", "9223372036854775807s",
                               "2400001h", "99999999999999999999999d", "50000d50000d1s"}) {
    auto parsed = ParseDuration(too_long);
    ASSERT_FALSE(parsed.ok()) << too_long << " read as " << *parsed;
    EXPECT_NE(std::string(parsed.status().message()).find("too long: at most 100000d"),
              std::string::npos)
        << parsed.status();
  }
}

}  // namespace
}  // namespace bikestream
