#include "cli/cli_common.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>

#include "common/print.h"
#include "common/redact.h"
#include "common/status.h"
#include "event/timestamp.h"

namespace bikestream::cli {

int Fail(std::string_view message) {
  Print(stderr, "bikestream: error: {}\n", message);
  return kExitFailure;
}

int Fail(const absl::Status& status) { return Fail(MessageOf(status)); }

CLI::Option* Secret(CLI::Option* option) {
  return option->each([](const std::string& value) { RegisterSecret(value); });
}

void RegisterSecretsOfUrls(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) RegisterUrlSecrets(argv[i]);
  for (char** variable = environ; *variable; ++variable) RegisterUrlSecrets(*variable);
}

void AddAdminTokenOption(CLI::App* command, std::string* token) {
  Secret(command->add_option("--admin-token", *token,
                             "Secret the admin endpoint requires (Authorization: Bearer TOKEN); needed to "
                             "listen off loopback. Falls back to $BIKESTREAM_ADMIN_TOKEN")
             ->envname("BIKESTREAM_ADMIN_TOKEN"));
}

std::string FirstEnv(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name); value && *value) return value;
  }
  return "";
}


absl::StatusOr<TimestampMicros> DurationFlag(std::string_view flag, std::string_view text, TimestampMicros min,
                                             TimestampMicros max) {
  auto micros = ParseDuration(text);
  if (!micros.ok()) return absl::InvalidArgumentError(fmt::format("{}: {}", flag, MessageOf(micros.status())));
  if (*micros < min || *micros > max) {
    return absl::InvalidArgumentError(fmt::format("{} {}: must be from {}s to {}d", flag, text, min / kSecond,
                                                  max / kDay));
  }
  return *micros;
}

}  // namespace bikestream::cli
