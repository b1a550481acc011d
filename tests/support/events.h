// Events for tests that only need some event: a pickup of one bike, by id; or some history.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "event/event.h"

namespace bikestream::testing_support {

inline Event MakeEvent(std::string id, std::string station = "A_101",
                       TimestampMicros ts = 1760804651000000) {
  return Event{std::move(id), std::move(station), ts, Kind::kPickup, 1};
}

// Twelve events in the twelve minutes before `end`, at stations A (8) and B (4), pickups and
// drop-offs of 1 to 4 bikes: a history every feature has a value for at `end`.
inline std::vector<Event> TwoStationsBefore(TimestampMicros end) {
  std::vector<Event> events;
  for (int i = 0; i < 12; ++i) {
    events.push_back(Event{"e" + std::to_string(i), i % 3 ? "A" : "B",
                           end - (i + 1) * kMicrosPerMinute, i % 2 ? Kind::kPickup : Kind::kDropoff,
                           1 + i % 4});
  }
  return events;
}

}  // namespace bikestream::testing_support
