#include "event/event.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "common/json_text.h"
#include "simdjson.h"

namespace bikestream {
namespace {

constexpr std::array<std::string_view, 13> kReasonCodes = {"bad_json",
                                                           "not_object",
                                                           "missing_field",
                                                           "wrong_type",
                                                           "bad_event_id",
                                                           "bad_station_id",
                                                           "bad_timestamp",
                                                           "bad_kind",
                                                           "bad_delta",
                                                           "too_long",
                                                           "duplicate_key",
                                                           "bad_encoding",
                                                           "refused_by_warehouse"};

bool IsPrintableAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

bool IsStationChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

Rejection Reject(Reason reason, std::string message) {
  return Rejection{reason, std::move(message)};
}

std::optional<Rejection> CheckIds(std::string_view event_id, std::string_view station_id,
                                  const ValidationRules& rules) {
  if (event_id.size() > rules.max_event_id_bytes) {
    return Reject(Reason::kTooLong, fmt::format("event_id is {} bytes; the limit is {}",
                                                event_id.size(), rules.max_event_id_bytes));
  }
  if (event_id.empty() || !IsPrintableAscii(event_id)) {
    return Reject(Reason::kBadEventId, "event_id must be non-empty printable ASCII");
  }
  if (station_id.size() > rules.max_station_id_bytes) {
    return Reject(Reason::kTooLong, fmt::format("station_id is {} bytes; the limit is {}",
                                                station_id.size(), rules.max_station_id_bytes));
  }
  if (!IsStationId(station_id)) {
    return Reject(Reason::kBadStationId, "station_id must be non-empty [A-Za-z0-9_.-]");
  }
  return std::nullopt;
}

std::optional<Rejection> CheckDelta(std::int64_t delta, const ValidationRules& rules) {
  if (delta < rules.min_delta || delta > rules.max_delta) {
    return Reject(Reason::kBadDelta, fmt::format("delta {} is outside {}..{}", delta,
                                                 rules.min_delta, rules.max_delta));
  }
  return std::nullopt;
}

// The fields of an event, in the order of Field.
constexpr std::array<std::string_view, 5> kFields = {"event_id", "station_id", "ts_iso", "kind",
                                                     "delta"};
enum Field : std::uint8_t { kEventId, kStationId, kTsIso, kKind, kDelta };

// The event's fields, found in one pass over the object; that pass also finds a field given
// twice. JSON leaves a repeated key's meaning open and parsers disagree on which value wins
// (the first here, the last in Python), so bikestream does not guess.
struct Fields {
  std::array<simdjson::dom::element, kFields.size()> values;
  std::array<bool, kFields.size()> found{};
  std::optional<std::string_view> repeated;
};

Fields FindFields(simdjson::dom::object object) {
  Fields fields;
  for (simdjson::dom::key_value_pair pair : object) {
    for (std::size_t i = 0; i < kFields.size(); ++i) {
      if (pair.key != kFields[i]) continue;
      if (fields.found[i]) {
        fields.repeated = kFields[i];
        return fields;
      }
      fields.found[i] = true;
      fields.values[i] = pair.value;
      break;
    }
  }
  return fields;
}

// A required string field; on failure fills `rejection`.
bool GetString(const Fields& fields, Field field, std::string_view* out, Rejection* rejection) {
  if (!fields.found[field]) {
    *rejection = Reject(Reason::kMissingField, fmt::format("missing field '{}'", kFields[field]));
    return false;
  }
  if (fields.values[field].get_string().get(*out) != simdjson::SUCCESS) {
    *rejection =
        Reject(Reason::kWrongType, fmt::format("field '{}' must be a string", kFields[field]));
    return false;
  }
  return true;
}

}  // namespace

std::string_view KindName(Kind kind) { return kind == Kind::kPickup ? "pickup" : "dropoff"; }

std::string_view ReasonCode(Reason reason) { return kReasonCodes[static_cast<int>(reason)]; }

bool IsReasonCode(std::string_view code) {
  for (std::string_view known : kReasonCodes) {
    if (known == code) return true;
  }
  return false;
}

struct EventParser::Impl {
  ValidationRules rules;
  simdjson::dom::parser parser;

  ParseResult Parse(std::string_view json);
  ParseResult Validate(simdjson::dom::object object);
};

EventParser::EventParser(ValidationRules rules) : impl_(std::make_unique<Impl>()) {
  impl_->rules = rules;
}
EventParser::~EventParser() = default;

ParseResult EventParser::Parse(std::string_view json) { return impl_->Parse(json); }

ParseResult EventParser::Impl::Parse(std::string_view json) {
  if (json.size() > rules.max_message_bytes) {
    return Reject(Reason::kTooLong, fmt::format("message of {} bytes exceeds the limit of {}",
                                                json.size(), rules.max_message_bytes));
  }
  simdjson::dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Reject(Reason::kBadJson,
                  fmt::format("not valid JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Reject(Reason::kNotObject, "expected a JSON object with the event's fields");
  }
  return Validate(object);
}

ParseResult EventParser::Impl::Validate(simdjson::dom::object object) {
  const Fields fields = FindFields(object);
  if (fields.repeated) {
    return Reject(Reason::kDuplicateKey,
                  fmt::format("field '{}' appears more than once", *fields.repeated));
  }
  Rejection rejection;
  std::string_view event_id, station_id, ts_iso, kind;
  if (!GetString(fields, kEventId, &event_id, &rejection) ||
      !GetString(fields, kStationId, &station_id, &rejection) ||
      !GetString(fields, kTsIso, &ts_iso, &rejection) ||
      !GetString(fields, kKind, &kind, &rejection)) {
    return rejection;
  }
  if (!fields.found[kDelta]) return Reject(Reason::kMissingField, "missing field 'delta'");
  const simdjson::dom::element delta_element = fields.values[kDelta];

  if (auto rejected = CheckIds(event_id, station_id, rules)) return *std::move(rejected);
  absl::StatusOr<TimestampMicros> ts = ParseRfc3339(ts_iso);
  if (!ts.ok()) return Reject(Reason::kBadTimestamp, std::string(ts.status().message()));

  Event event;
  if (kind == "pickup") {
    event.kind = Kind::kPickup;
  } else if (kind == "dropoff") {
    event.kind = Kind::kDropoff;
  } else {
    return Reject(Reason::kBadKind,
                  fmt::format("kind must be 'pickup' or 'dropoff', not '{}'", kind.substr(0, 32)));
  }
  if (!delta_element.is_number()) {
    return Reject(Reason::kWrongType, "field 'delta' must be a number");
  }
  std::int64_t delta;
  if (delta_element.get_int64().get(delta) != simdjson::SUCCESS) {
    return Reject(Reason::kBadDelta, "delta must be a whole number");
  }
  if (auto rejected = CheckDelta(delta, rules)) return *std::move(rejected);
  event.event_id = event_id;
  event.station_id = station_id;
  event.ts = *ts;
  event.delta = static_cast<std::int32_t>(delta);
  return event;
}

bool IsStationId(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsStationChar);
}

std::optional<Rejection> CheckEvent(const Event& event, const ValidationRules& rules) {
  if (auto rejected = CheckIds(event.event_id, event.station_id, rules)) return rejected;
  return CheckDelta(event.delta, rules);
}

std::string ToJson(const Event& event) {
  return fmt::format(R"({{"event_id":{},"station_id":{},"ts_iso":"{}","kind":"{}","delta":{}}})",
                     JsonQuote(event.event_id), JsonQuote(event.station_id),
                     FormatRfc3339(event.ts), KindName(event.kind), event.delta);
}

}  // namespace bikestream
