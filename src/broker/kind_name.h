// How `--from` and `--to` name a kind of source or destination in the tables of this folder: by
// a word (`pubsub`), or by a URL scheme (`mqtt://`) that the value starts with.
#pragma once

#include <string_view>

namespace bikestream {

inline bool NamesKind(std::string_view kind, std::string_view value) {
  return value == kind || (kind.ends_with("://") && value.starts_with(kind));
}

}  // namespace bikestream
