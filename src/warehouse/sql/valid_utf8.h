// Text that a warehouse's text columns and JSON requests accept.
#pragma once

#include <string>
#include <string_view>

namespace bikestream {

// `text` with NUL and every byte that is not part of valid UTF-8 replaced by U+FFFD: text
// columns of a UTF-8 database, and JSON, accept nothing else.
std::string ValidUtf8(std::string_view text);

}  // namespace bikestream
