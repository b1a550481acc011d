// JSON written by hand: strings escaped, and result cells typed as training-set's jsonl and the
// serving endpoint write them.
#include "common/json_text.h"

#include <gtest/gtest.h>

namespace bikestream {
namespace {

TEST(JsonText, QuotesAndEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(JsonText, ACellIsNullANumberOrAString) {
  EXPECT_EQ(JsonScalar("", true, false), "null");
  EXPECT_EQ(JsonScalar("", true, true), "null");
  EXPECT_EQ(JsonScalar("1.5", false, true), "1.5");
  EXPECT_EQ(JsonScalar("-2e-05", false, true), "-2e-05");
  EXPECT_EQ(JsonScalar("1.5", false, false), "\"1.5\"");
  // JSON has no NaN nor infinities, however an engine spells them.
  for (const char* text : {"nan", "-nan", "inf", "-inf", "NaN", "Infinity", "-Infinity"}) {
    EXPECT_EQ(JsonScalar(text, false, true), "null") << text;
  }
}

}  // namespace
}  // namespace bikestream
