#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "event/event.h"

namespace bikestream {
namespace {

struct CorpusCase {
  std::string expected;  // "ok" or a reason code.
  std::string json;
  int line;
};

std::vector<CorpusCase> LoadCorpus() {
  std::ifstream in(BIKESTREAM_TEST_DATA "/event/parser_corpus.txt");
  std::vector<CorpusCase> cases;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.empty() || text[0] == '#') continue;
    const auto space = text.find(' ');
    cases.push_back({text.substr(0, space), text.substr(space + 1), line});
  }
  return cases;
}

TEST(EventParser, CorpusGivesExpectedOutcomeAndReason) {
  const auto cases = LoadCorpus();
  ASSERT_GE(cases.size(), 40u);
  EventParser parser;
  for (const auto& c : cases) {
    ParseResult result = parser.Parse(c.json);
    SCOPED_TRACE(fmt::format("parser_corpus.txt:{}: {}", c.line, c.json));
    if (c.expected == "ok") {
      ASSERT_TRUE(std::holds_alternative<Event>(result)) << std::get<Rejection>(result).message;
    } else {
      ASSERT_TRUE(IsReasonCode(c.expected)) << "unknown code in the corpus: " << c.expected;
      ASSERT_TRUE(std::holds_alternative<Rejection>(result));
      const Rejection& rejection = std::get<Rejection>(result);
      EXPECT_EQ(ReasonCode(rejection.reason), c.expected) << rejection.message;
      EXPECT_FALSE(rejection.message.empty());
    }
  }
}

TEST(EventParser, KeepsEveryFieldOfAValidEvent) {
  EventParser parser;
  ParseResult result = parser.Parse(
      R"({"event_id":"e-90001","station_id":"A_101","ts_iso":"2025-10-22T19:44:58.5+02:00","kind":"dropoff","delta":7})");
  ASSERT_TRUE(std::holds_alternative<Event>(result));
  const Event& event = std::get<Event>(result);
  EXPECT_EQ(event.event_id, "e-90001");
  EXPECT_EQ(event.station_id, "A_101");
  EXPECT_EQ(FormatRfc3339(event.ts), "2025-10-22T17:44:58.500000Z");
  EXPECT_EQ(event.kind, Kind::kDropoff);
  EXPECT_EQ(event.delta, 7);
}

TEST(EventParser, MessagesNameTheFieldAndTheProblem) {
  EventParser parser;
  auto rejection = std::get<Rejection>(parser.Parse(
      R"({"event_id":"e-1","station_id":"A_101","ts_iso":"2025-02-30T10:00:00Z","kind":"pickup","delta":1})"));
  EXPECT_NE(rejection.message.find("2025-02-30T10:00:00Z"), std::string::npos);
  EXPECT_NE(rejection.message.find("no such date"), std::string::npos);
  rejection = std::get<Rejection>(parser.Parse(R"({"event_id":"e-1"})"));
  EXPECT_EQ(rejection.message, "missing field 'station_id'");
}

TEST(EventParser, RejectsMessagesOverTheSizeLimit) {
  EventParser parser(ValidationRules{.max_message_bytes = 64});
  auto result = parser.Parse(std::string(65, ' '));
  ASSERT_TRUE(std::holds_alternative<Rejection>(result));
  EXPECT_EQ(std::get<Rejection>(result).reason, Reason::kTooLong);
}

TEST(EventParser, RelaxedRulesAcceptWhatDefaultsReject) {
  const std::string json =
      R"({"event_id":"e-1","station_id":"A_101","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":5000})";
  EventParser strict;
  EventParser relaxed(ValidationRules{.max_delta = 10'000});
  EXPECT_TRUE(std::holds_alternative<Rejection>(strict.Parse(json)));
  EXPECT_TRUE(std::holds_alternative<Event>(relaxed.Parse(json)));
}

TEST(EventJson, RoundTripsThroughTheParser) {
  Event event{"e-abc-1", "A_205", 1760804651123456, Kind::kPickup, 3};
  EventParser parser;
  ParseResult result = parser.Parse(ToJson(event));
  ASSERT_TRUE(std::holds_alternative<Event>(result));
  EXPECT_EQ(std::get<Event>(result), event);
  EXPECT_EQ(
      ToJson(event),
      R"({"event_id":"e-abc-1","station_id":"A_205","ts_iso":"2025-10-18T16:24:11.123456Z","kind":"pickup","delta":3})");
}

// CheckEvent (for events made in process) says what parsing the event's JSON would.
TEST(CheckEvent, AgreesWithTheParserOnTheSameEvent) {
  EventParser parser;
  const Event good{.event_id = "oslo:407:1",
                   .station_id = "407",
                   .ts = 1'760'804'651'000'000,
                   .kind = Kind::kPickup,
                   .delta = 2};
  std::vector<Event> events(10, good);
  events[1].event_id = "";
  events[2].event_id =
      "del\x7f"
      "here";
  events[3].event_id = std::string(129, 'e');
  events[4].station_id = "a b";
  events[5].station_id = std::string(65, 's');
  events[6].delta = 0;
  events[7].station_id = "say \"hi\"";  // A feed's station id may hold anything JSON can.
  events[8].station_id = "back\\slash";
  events[9].event_id = "line\nbreak";
  for (const Event& event : events) {
    const std::optional<Rejection> checked = CheckEvent(event);
    const ParseResult parsed = parser.Parse(ToJson(event));
    ASSERT_EQ(checked.has_value(), std::holds_alternative<Rejection>(parsed)) << ToJson(event);
    if (!checked) continue;
    EXPECT_EQ(checked->reason, std::get<Rejection>(parsed).reason) << ToJson(event);
    EXPECT_EQ(checked->message, std::get<Rejection>(parsed).message) << ToJson(event);
  }
  EXPECT_FALSE(CheckEvent(good).has_value());
}

}  // namespace
}  // namespace bikestream
