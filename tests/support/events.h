// Events for tests that only need some event: a pickup of one bike, by id.
#pragma once

#include <string>
#include <utility>

#include "event/event.h"

namespace bikestream::testing_support {

inline Event MakeEvent(std::string id, std::string station = "A_101",
                       TimestampMicros ts = 1760804651000000) {
  return Event{std::move(id), std::move(station), ts, Kind::kPickup, 1};
}

}  // namespace bikestream::testing_support
