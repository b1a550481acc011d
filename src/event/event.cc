#include "event/event.h"

#include <fmt/format.h>

#include <array>
#include <optional>

#include "simdjson.h"

namespace bikestream {
namespace {

constexpr std::array<std::string_view, 13> kReasonCodes = {
    "bad_json",      "not_object",   "missing_field",       "wrong_type", "bad_event_id",
    "bad_station_id", "bad_timestamp", "bad_kind",           "bad_delta",  "too_long",
    "duplicate_key", "bad_encoding", "refused_by_warehouse"};

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

bool IsStationId(std::string_view text) {
  for (char c : text) {
    if (!IsStationChar(c)) return false;
  }
  return true;
}

Rejection Reject(Reason reason, std::string message) { return Rejection{reason, std::move(message)}; }

// The name of an event field that appears more than once, if one does. JSON leaves a repeated
// key's meaning open and parsers disagree on which value wins (the first here, the last in
// Python), so bikestream does not guess.
std::optional<std::string_view> RepeatedField(simdjson::dom::object object) {
  constexpr std::array<std::string_view, 5> kFields = {"event_id", "station_id", "ts_iso", "kind", "delta"};
  std::array<bool, kFields.size()> seen{};
  for (simdjson::dom::key_value_pair field : object) {
    for (std::size_t i = 0; i < kFields.size(); ++i) {
      if (field.key != kFields[i]) continue;
      if (seen[i]) return kFields[i];
      seen[i] = true;
    }
  }
  return std::nullopt;
}

// Looks up a required string field; on failure fills `rejection`.
bool GetString(simdjson::dom::object object, std::string_view field, std::string_view* out,
               Rejection* rejection) {
  simdjson::dom::element element;
  if (object[field].get(element) != simdjson::SUCCESS) {
    *rejection = Reject(Reason::kMissingField, fmt::format("missing field '{}'", field));
    return false;
  }
  if (element.get_string().get(*out) != simdjson::SUCCESS) {
    *rejection = Reject(Reason::kWrongType, fmt::format("field '{}' must be a string", field));
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
    return Reject(Reason::kBadJson, fmt::format("not valid JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Reject(Reason::kNotObject, "expected a JSON object with the event's fields");
  }
  return Validate(object);
}

ParseResult EventParser::Impl::Validate(simdjson::dom::object object) {
  if (auto repeated = RepeatedField(object)) {
    return Reject(Reason::kDuplicateKey, fmt::format("field '{}' appears more than once", *repeated));
  }
  Rejection rejection;
  std::string_view event_id, station_id, ts_iso, kind;
  if (!GetString(object, "event_id", &event_id, &rejection) ||
      !GetString(object, "station_id", &station_id, &rejection) ||
      !GetString(object, "ts_iso", &ts_iso, &rejection) ||
      !GetString(object, "kind", &kind, &rejection)) {
    return rejection;
  }
  simdjson::dom::element delta_element;
  if (object["delta"].get(delta_element) != simdjson::SUCCESS) {
    return Reject(Reason::kMissingField, "missing field 'delta'");
  }

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
  if (station_id.empty() || !IsStationId(station_id)) {
    return Reject(Reason::kBadStationId, "station_id must be non-empty [A-Za-z0-9_.-]");
  }
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
  if (delta < rules.min_delta || delta > rules.max_delta) {
    return Reject(Reason::kBadDelta, fmt::format("delta {} is outside {}..{}", delta,
                                                       rules.min_delta, rules.max_delta));
  }
  event.event_id = event_id;
  event.station_id = station_id;
  event.ts = *ts;
  event.delta = static_cast<std::int32_t>(delta);
  return event;
}

std::string ToJson(const Event& event) {
  // Ids are validated printable ASCII; only quote and backslash need escaping.
  auto escaped = [](std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  };
  return fmt::format(R"({{"event_id":"{}","station_id":"{}","ts_iso":"{}","kind":"{}","delta":{}}})",
                     escaped(event.event_id), event.station_id, FormatRfc3339(event.ts),
                     KindName(event.kind), event.delta);
}

}  // namespace bikestream
