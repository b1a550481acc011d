// Writing JSON by hand where a document is one flat object of known fields (events, result
// rows): the string escaping that JSON requires.
#pragma once

#include <string>
#include <string_view>

namespace bikestream {

// `text` as a JSON string literal, quotes included: quote, backslash and control characters
// escaped; other bytes (UTF-8 included) as they are.
std::string JsonQuote(std::string_view text);

}  // namespace bikestream
