// The Pub/Sub emulator for a test binary. Where gcloud is missing the tests that need it skip,
// saying so in one line, unless CI=true, where they fail.
#pragma once

#include <gtest/gtest.h>

#include "support/pubsub_emulator_process.h"

namespace bikestream::testing_support {

// One emulator per test binary, started on first use.
inline PubsubEmulator& SharedEmulator() {
  static PubsubEmulator emulator;
  return emulator;
}

// At the top of a test: skips (or fails in CI) when the emulator cannot run here.
#define REQUIRE_PUBSUB_EMULATOR()                                             \
  do {                                                                        \
    auto& emulator_ = ::bikestream::testing_support::SharedEmulator();        \
    if (!emulator_.ready()) {                                                 \
      if (::bikestream::testing_support::InCi()) FAIL() << emulator_.error(); \
      GTEST_SKIP() << "skipped: " << emulator_.error();                       \
    }                                                                         \
  } while (0)

}  // namespace bikestream::testing_support
