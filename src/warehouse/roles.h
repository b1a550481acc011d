// The roles a warehouse plays, each a narrow interface in a header of its own that its callers
// depend on alone:
//   EventSink        commits batches of events and dead letters, exactly once (event_sink.h)
//   DeadLetterStore  lists dead letters and resolves replayed ones (dead_letter_store.h)
//   FeatureStore     computes, stores and reads station features; training sets (feature_store.h)
//   EventHistory     reads raw_events back: totals, latest time, a scan (event_history.h)
//   SqlConsole       runs one SQL statement for a person (sql_console.h)
//   StationDirectory keeps the stations table: where each station is (station_directory.h)
//   ActivityReader   events per station and 15 minutes, the busiest stations (activity_reader.h)
// A backend implements them all as a `Warehouse` (warehouse.h); this header is for the code that
// takes them all. Unless a role says otherwise, an object is used from one thread at a time.
#pragma once

#include "warehouse/activity_reader.h"
#include "warehouse/dead_letter_store.h"
#include "warehouse/event_history.h"
#include "warehouse/event_sink.h"
#include "warehouse/feature_store.h"
#include "warehouse/sql_console.h"
#include "warehouse/station_directory.h"
