#include "warehouse/sql/valid_utf8.h"

#include <simdjson.h>

namespace bikestream {

std::string ValidUtf8(std::string_view text) {
  if (text.find('\0') == std::string_view::npos &&
      simdjson::validate_utf8(text.data(), text.size())) {
    return std::string(text);
  }
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string valid;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (lead != 0 && length > 0 && i + length <= text.size() &&
        simdjson::validate_utf8(text.data() + i, length)) {
      valid.append(text.substr(i, length));
      i += length;
    } else {
      valid.append(kReplacement);
      ++i;
    }
  }
  return valid;
}

}  // namespace bikestream
