// Printing for people (results, progress, logs) that a closed or full output cannot stop.
//
// fmt::print throws when a write fails, e.g. with EPIPE once the reader of a pipe has gone
// (`bikestream ingest … 2>&1 | head`); on a job's thread that would end the process with its
// work half done. Print drops the words instead and lets the work go on; a command whose
// output *is* its work (simulate to stdout) checks std::ferror to stop.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <system_error>
#include <utility>

namespace bikestream {

template <typename... Args>
void Print(std::FILE* out, fmt::format_string<Args...> format, Args&&... args) {
  try {
    fmt::print(out, format, std::forward<Args>(args)...);
  } catch (const std::system_error&) {
    // Nobody is reading: the error flag of `out` stays set for whoever must know.
  }
}

template <typename... Args>
void Print(fmt::format_string<Args...> format, Args&&... args) {
  Print(stdout, format, std::forward<Args>(args)...);
}

}  // namespace bikestream
