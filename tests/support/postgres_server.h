// The PostgreSQL server for a test binary. Where PostgreSQL is missing the tests that need it
// skip, saying so in one line, unless CI=true, where they fail.
#pragma once

#include <gtest/gtest.h>

#include "support/postgres_server_process.h"

namespace bikestream::testing_support {

// One server per test binary, started on first use.
inline PostgresServer& SharedPostgres() {
  static PostgresServer server;
  return server;
}

// At the top of a test: skips (or fails in CI) when PostgreSQL cannot run here.
#define REQUIRE_POSTGRES()                                                    \
  do {                                                                        \
    auto& postgres_ = ::bikestream::testing_support::SharedPostgres();        \
    if (!postgres_.ready()) {                                                 \
      if (::bikestream::testing_support::InCi()) FAIL() << postgres_.error(); \
      GTEST_SKIP() << "skipped: " << postgres_.error();                       \
    }                                                                         \
  } while (0)

}  // namespace bikestream::testing_support
