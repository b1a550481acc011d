// Writing JSON by hand where a document is one flat object of known fields (events, result
// rows): the string escaping that JSON requires.
#pragma once

#include <string>
#include <string_view>

namespace bikestream {

// `text` as a JSON string literal, quotes included: quote, backslash and control characters
// escaped; other bytes (UTF-8 included) as they are.
std::string JsonQuote(std::string_view text);

// A result cell as JSON: null; a number as its text (null for NaN and the infinities, which JSON
// cannot carry, however an engine spells them: nan, inf, NaN, Infinity); or a string.
std::string JsonScalar(std::string_view text, bool is_null, bool is_number);

}  // namespace bikestream
