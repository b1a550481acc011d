#include "event/timestamp.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "absl/status/status.h"

namespace bikestream {
namespace {

constexpr int kMaxFractionDigits = 9;
constexpr int kMicroDigits = 6;

// A cursor over the text that reads fixed-width decimal fields.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool ReadDigits(int width, int* value) {
    if (pos_ + width > text_.size()) return false;
    int result = 0;
    for (int i = 0; i < width; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      result = result * 10 + (c - '0');
    }
    pos_ += width;
    *value = result;
    return true;
  }

  bool ReadChar(char expected) { return ReadOneOf(expected, expected); }

  bool ReadOneOf(char a, char b) {
    if (pos_ >= text_.size() || (text_[pos_] != a && text_[pos_] != b)) return false;
    ++pos_;
    return true;
  }

  bool ReadText(std::string_view expected) {
    if (text_.substr(pos_, expected.size()) != expected) return false;
    pos_ += expected.size();
    return true;
  }

  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool AtEnd() const { return pos_ == text_.size(); }

  // Reads 1 to kMaxFractionDigits digits and returns them scaled to microseconds.
  bool ReadFractionMicros(int* micros) {
    int digits = 0;
    int value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (++digits > kMaxFractionDigits) return false;
      if (digits <= kMicroDigits) value = value * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    if (digits == 0) return false;
    for (int d = digits; d < kMicroDigits; ++d) value *= 10;
    *micros = value;
    return true;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

absl::Status Invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("timestamp '{}': {}", text, why));
}

// The instant of a date and a time of day, checked, with the offset taken off.
struct DateTimeFields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  int offset_minutes = 0;
};

absl::StatusOr<TimestampMicros> InstantOf(std::string_view text, const DateTimeFields& f) {
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{f.year}, std::chrono::month{unsigned(f.month)},
                            std::chrono::day{unsigned(f.day)}};
  if (f.year < 1 || !date.ok()) return Invalid(text, "no such date");
  if (f.hour > 23 || f.minute > 59 || f.second > 59) {
    return Invalid(text, f.second == 60 ? "leap seconds are not supported" : "no such time of day");
  }
  const std::int64_t days = sys_days{date}.time_since_epoch().count();
  const std::int64_t seconds =
      days * 86400 + f.hour * 3600 + f.minute * 60 + f.second - std::int64_t{f.offset_minutes} * 60;
  const TimestampMicros instant = seconds * kMicrosPerSecond + f.micros;
  if (!InTimestampRange(instant)) {
    return Invalid(text,
                   "outside the supported range 0001-01-01T00:00:00Z to "
                   "9999-12-31T23:59:59.999999Z (in UTC)");
  }
  return instant;
}

bool ReadDate(Scanner& in, DateTimeFields& f) {
  return in.ReadDigits(4, &f.year) && in.ReadChar('-') && in.ReadDigits(2, &f.month) &&
         in.ReadChar('-') && in.ReadDigits(2, &f.day);
}

// `[.fraction]` after the seconds; false on a '.' without digits.
bool ReadFraction(Scanner& in, DateTimeFields& f) {
  return !in.ReadChar('.') || in.ReadFractionMicros(&f.micros);
}

// `+HH:MM` or `-HH:MM`, and with `compact`, `+HHMM` and `+HH` too (PostgreSQL prints `+00`).
absl::Status ReadOffset(std::string_view text, Scanner& in, DateTimeFields& f, bool compact) {
  const bool negative = in.Peek('-');
  int hours = 0, minutes = 0;
  if (!in.ReadOneOf('+', '-')) return Invalid(text, "missing UTC offset (Z or +HH:MM)");
  const bool read = in.ReadDigits(2, &hours) &&
                    (in.ReadChar(':') ? in.ReadDigits(2, &minutes)
                                      : compact && (in.AtEnd() || in.ReadDigits(2, &minutes)));
  if (!read) return Invalid(text, "expected the UTC offset as +HH:MM or -HH:MM");
  if (hours > 23 || minutes > 59) return Invalid(text, "UTC offset out of range");
  f.offset_minutes = (negative ? -1 : 1) * (hours * 60 + minutes);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TimestampMicros> ParseRfc3339(std::string_view text) {
  Scanner in(text);
  DateTimeFields f;
  if (!ReadDate(in, f)) return Invalid(text, "expected a date as YYYY-MM-DD");
  if (!in.ReadOneOf('T', 't')) return Invalid(text, "expected 'T' between date and time");
  if (!in.ReadDigits(2, &f.hour) || !in.ReadChar(':') || !in.ReadDigits(2, &f.minute) ||
      !in.ReadChar(':') || !in.ReadDigits(2, &f.second)) {
    return Invalid(text, "expected a time as HH:MM:SS");
  }
  if (!ReadFraction(in, f)) return Invalid(text, "expected 1 to 9 digits of fraction after '.'");
  if (!in.ReadOneOf('Z', 'z')) {
    if (auto status = ReadOffset(text, in, f, /*compact=*/false); !status.ok()) return status;
  }
  if (!in.AtEnd()) return Invalid(text, "unexpected characters after the timestamp");
  return InstantOf(text, f);
}

absl::StatusOr<TimestampMicros> ParseTimestamp(std::string_view text) {
  Scanner in(text);
  DateTimeFields f;
  if (!ReadDate(in, f)) {
    return Invalid(text, "expected a date as YYYY-MM-DD, e.g. 2024-10-13T12:00:00Z");
  }
  if (!in.AtEnd()) {
    if (!in.ReadOneOf('T', 't') && !in.ReadChar(' ')) {
      return Invalid(text, "expected 'T' or a space between date and time");
    }
    if (!in.ReadDigits(2, &f.hour) || !in.ReadChar(':') || !in.ReadDigits(2, &f.minute)) {
      return Invalid(text, "expected a time as HH:MM[:SS]");
    }
    // A fraction only of seconds: `12:00.5` is no time any tool writes.
    if (in.ReadChar(':') && (!in.ReadDigits(2, &f.second) || !ReadFraction(in, f))) {
      return Invalid(text, "expected the seconds as SS[.fraction]");
    }
    if (!in.ReadOneOf('Z', 'z') && !in.ReadText(" UTC") && !in.AtEnd()) {
      if (auto status = ReadOffset(text, in, f, /*compact=*/true); !status.ok()) return status;
    }
  }
  if (!in.AtEnd()) return Invalid(text, "unexpected characters after the timestamp");
  return InstantOf(text, f);
}

std::string FormatRfc3339(TimestampMicros micros) {
  using namespace std::chrono;
  std::int64_t seconds = micros / kMicrosPerSecond;
  std::int64_t fraction = micros % kMicrosPerSecond;
  if (fraction < 0) {
    fraction += kMicrosPerSecond;
    --seconds;
  }
  std::int64_t days = seconds / 86400;
  std::int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  const year_month_day date{sys_days{std::chrono::days{days}}};
  char buffer[40];
  int length =
      std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", int(date.year()),
                    unsigned(date.month()), unsigned(date.day()), int(second_of_day / 3600),
                    int(second_of_day / 60 % 60), int(second_of_day % 60));
  if (fraction != 0) {
    length += std::snprintf(buffer + length, sizeof buffer - length, ".%06d", int(fraction));
  }
  buffer[length] = 'Z';
  return std::string(buffer, length + 1);
}

absl::StatusOr<DurationMicros> ParseDuration(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty duration; use e.g. 30s, 15m, 2h, 7d");
  constexpr std::int64_t kMaxSeconds = kMaxDuration / kMicrosPerSecond;
  const auto too_long = [&] {
    return absl::InvalidArgumentError(
        fmt::format("duration '{}' is too long: at most {}d", text, kMaxSeconds / 86'400));
  };
  std::int64_t total_seconds = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::int64_t number = 0;
    std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      number = number * 10 + (text[pos++] - '0');
      if (number > kMaxSeconds) return too_long();
    }
    if (pos == start || pos == text.size()) {
      return absl::InvalidArgumentError(
          fmt::format("duration '{}': expected a number then a unit (s, m, h or d)", text));
    }
    std::int64_t unit_seconds = 0;
    switch (text[pos++]) {
      case 's':
        unit_seconds = 1;
        break;
      case 'm':
        unit_seconds = 60;
        break;
      case 'h':
        unit_seconds = 3600;
        break;
      case 'd':
        unit_seconds = 86400;
        break;
      default:
        return absl::InvalidArgumentError(
            fmt::format("duration '{}': unknown unit; use s, m, h or d", text));
    }
    // Checked before it is multiplied: nothing here can overflow.
    if (number > (kMaxSeconds - total_seconds) / unit_seconds) return too_long();
    total_seconds += number * unit_seconds;
  }
  return total_seconds * kMicrosPerSecond;
}

}  // namespace bikestream
