#include "common/json_text.h"

#include <fmt/format.h>

namespace bikestream {

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  out.reserve(text.size() + 2);
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(char(c));
        }
    }
  }
  return out + "\"";
}

std::string JsonScalar(std::string_view text, bool is_null, bool is_number) {
  if (!is_number) return is_null ? "null" : JsonQuote(text);
  const bool finite = text.find_first_of("nNiI") == std::string_view::npos;
  return is_null || !finite ? "null" : std::string(text);
}

}  // namespace bikestream
