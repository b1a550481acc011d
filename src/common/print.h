// Printing for people (results, progress, logs) that a closed or full output cannot stop, and
// that no secret reaches: what goes to stderr (logs, errors, progress) passes through
// RedactSecrets (common/redact.h) on its way out.
//
// fmt::print throws when a write fails, e.g. with EPIPE once the reader of a pipe has gone
// (`bikestream ingest … 2>&1 | head`); on a job's thread that would end the process with its
// work half done. Print drops the words instead and lets the work go on, remembering why a
// write to stdout failed: a command whose output *is* its work (simulate to stdout) stops at
// once, and main() tells a reader that went away (EPIPE: fine) from a full disk (an error).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

#include "common/redact.h"

namespace bikestream {

// The errno of the first failed write to stdout through Print; 0 while none failed. (Process
// state, as stdout itself is.)
inline std::atomic<int>& StdoutWriteError() {
  static std::atomic<int> error{0};
  return error;
}

// Flushes stdout; returns StdoutWriteError() after it (the flush's own errno if it was the
// first write to fail).
inline int FlushStdout() {
  int none = 0;
  if (std::fflush(stdout) != 0) StdoutWriteError().compare_exchange_strong(none, errno);
  return StdoutWriteError();
}

// Whether stdout's reader went away (`| head`): the person has what they wanted, and a command
// whose output is its work ends there, successfully.
inline bool StdoutReaderGone() { return StdoutWriteError() == EPIPE; }

template <typename... Args>
void Print(std::FILE* out, fmt::format_string<Args...> format, Args&&... args) {
  try {
    if (out == stdout) {
      fmt::print(out, format, std::forward<Args>(args)...);
    } else {
      fmt::print(out, "{}", RedactSecrets(fmt::format(format, std::forward<Args>(args)...)));
    }
  } catch (const std::system_error& error) {
    if (out != stdout) return;  // Progress and logs: losing them loses no work.
    int none = 0;
    StdoutWriteError().compare_exchange_strong(none, error.code().value());
  }
}

template <typename... Args>
void Print(fmt::format_string<Args...> format, Args&&... args) {
  Print(stdout, format, std::forward<Args>(args)...);
}

}  // namespace bikestream
