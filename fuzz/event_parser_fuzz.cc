// libFuzzer target: any bytes given to the event parser give an event or a reason, never a
// crash, and what it accepts satisfies the contract.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "event/event.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bikestream::EventParser parser;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  bikestream::ParseResult result = parser.Parse(input);
  if (const auto* event = std::get_if<bikestream::Event>(&result)) {
    Check(!event->event_id.empty() && event->event_id.size() <= 128);
    Check(!event->station_id.empty() && event->station_id.size() <= 64);
    Check(event->delta >= 1 && event->delta <= 1000);
    Check(bikestream::InTimestampRange(event->ts));  // What every warehouse can store.
    // What was accepted survives a round trip through the wire format.
    bikestream::ParseResult again = parser.Parse(bikestream::ToJson(*event));
    Check(std::holds_alternative<bikestream::Event>(again) &&
          std::get<bikestream::Event>(again) == *event);
  } else {
    const auto& rejection = std::get<bikestream::Rejection>(result);
    Check(!rejection.message.empty());
    Check(bikestream::IsReasonCode(bikestream::ReasonCode(rejection.reason)));
  }
  return 0;
}
