// What every subcommand shares: exit codes, how errors reach the user, the bounds of
// numeric flags, and reading the environment. Only the CLI reads flags and the environment.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/time.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace bikestream::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCancelled = 130;  // As a shell reports a job ended by SIGINT.

// The bounds of count, rate and size flags: past them a value is a typo, not a plan.
inline constexpr std::uint64_t kMaxCount = 1'000'000'000'000;  // Messages.
inline constexpr double kMaxSimulatedRate = 10'000'000;        // Events per second.
inline constexpr double kMinSpeedup = 1e-6;
inline constexpr double kMaxSpeedup = 1e9;
inline constexpr std::size_t kMaxRows = 10'000'000;  // Rows to print.

// Prints "bikestream: error: <message>" on stderr and returns kExitFailure.
int Fail(const absl::Status& status);
int Fail(std::string_view message);

// A duration flag's value within [min, max]; the error names the flag and the range.
absl::StatusOr<TimestampMicros> DurationFlag(std::string_view flag, std::string_view text,
                                             TimestampMicros min, TimestampMicros max);
inline constexpr DurationMicros kSecond = kMicrosPerSecond;
inline constexpr DurationMicros kDay = 24 * 3600 * kSecond;
// The longest tick, window or lateness a flag takes: a year.
inline constexpr DurationMicros kMaxFlagDuration = 366 * kDay;

// The first of the environment variables `names` that is set and not empty, else "".
std::string FirstEnv(std::initializer_list<const char*> names);

// Marks the values of `option` (from the command line or its environment variable) as secrets:
// masked wherever they would be shown (common/redact.h). Returns `option`.
CLI::Option* Secret(CLI::Option* option);

// Registers, before any command runs, the secrets of the command line's URLs and settings
// (user:PASSWORD@, token=…, --admin-token=…), and of the environment's URLs and the variables
// named as secrets (PGPASSWORD, …_TOKEN), whatever carries them.
void RegisterSecretsOfInvocation(int argc, char** argv);

// --admin-token (or $BIKESTREAM_ADMIN_TOKEN): the secret a job's admin endpoint requires of
// each request, and that `bikestream jobs` sends.
void AddAdminTokenOption(CLI::App* command, std::string* token);

}  // namespace bikestream::cli
