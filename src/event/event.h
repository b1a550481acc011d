// The sensor event: the wire format of ../../docs/events.md and its validation.
//
// `EventParser` turns one JSON document into an `Event` or a `Rejection` that says why not,
// with a machine-readable reason code. It never throws and never aborts on any input, which a
// fuzzer checks. An `EventParser` is not thread-safe (it reuses its buffers); use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "event/timestamp.h"

namespace bikestream {

enum class Kind : std::uint8_t { kPickup, kDropoff };

std::string_view KindName(Kind kind);

struct Event {
  std::string event_id;  // The dedup key: the same id is the same event.
  std::string station_id;
  TimestampMicros ts = 0;  // Event time, UTC.
  Kind kind = Kind::kPickup;
  std::int32_t delta = 1;  // Bikes moved.

  friend bool operator==(const Event&, const Event&) = default;
};

// Why input is not an event. The codes are stable: they are stored in dead_letter.reason.
enum class Reason : std::uint8_t {
  kBadJson,       // Not valid JSON.
  kNotObject,     // Valid JSON, but not an object.
  kMissingField,  // A required field is absent.
  kWrongType,     // A field has the wrong JSON type.
  kBadEventId,    // event_id empty or not printable ASCII.
  kBadStationId,  // station_id empty or outside [A-Za-z0-9_.-].
  kBadTimestamp,  // ts_iso not RFC 3339, or an impossible date or time.
  kBadKind,       // kind is neither pickup nor dropoff.
  kBadDelta,      // delta not an integer in the allowed range.
  kTooLong,       // A field or the whole message exceeds its size limit.
  kDuplicateKey,  // One of the event's fields appears twice: which value was meant is unclear.
  kBadEncoding,   // The source could not decode the message (e.g. Pub/Sub data not base64).
  kRefusedByWarehouse,  // A valid event the warehouse would not store; its error says why.
};

// The stable code of `reason`, e.g. "bad_json".
std::string_view ReasonCode(Reason reason);
// All codes, for validating a `--reason` flag.
bool IsReasonCode(std::string_view code);

struct Rejection {
  Reason reason{};
  std::string message;  // For people: names the field and what was wrong.
};

// Limits of a valid event. The defaults are the contract in docs/design.md; a replay of the dead
// letters may run under relaxed rules.
struct ValidationRules {
  std::size_t max_event_id_bytes = 128;     // Default: 128.
  std::size_t max_station_id_bytes = 64;    // Default: 64.
  std::int64_t min_delta = 1;               // Default: 1.
  std::int64_t max_delta = 1000;            // Default: 1000.
  std::size_t max_message_bytes = 1 << 20;  // Default: 1 MiB; longer input is kTooLong.
};

using ParseResult = std::variant<Event, Rejection>;

class EventParser {
 public:
  explicit EventParser(ValidationRules rules = {});
  ~EventParser();
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses and validates one JSON document. Unknown fields are ignored.
  ParseResult Parse(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `text` is a valid station_id: non-empty [A-Za-z0-9_.-] (the length limit aside).
bool IsStationId(std::string_view text);

// Why an event made in process (not parsed: e.g. by `gbfs --to warehouse`) would not pass
// EventParser under `rules`, or nullopt when it would: the same checks of its ids and delta.
std::optional<Rejection> CheckEvent(const Event& event, const ValidationRules& rules = {});

// Serializes an event in the wire format, fields in the documented order.
std::string ToJson(const Event& event);

}  // namespace bikestream
