#include "cli/cli_common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <regex>
#include <string_view>

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

void RegisterSecretsOfInvocation(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) RegisterUrlSecrets(argv[i]);
  // From the environment, the variables named as secrets (PGPASSWORD, …_TOKEN) and URLs: not
  // everything that reads like a URL's parts (PATH=/usr/bin:/tmp/node@18/bin).
  static const std::regex kUrl("[A-Za-z][A-Za-z0-9+.-]*://\\S*");
  for (char** variable = environ; *variable; ++variable) {
    const std::string_view entry(*variable);
    const std::size_t equals = entry.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string value(entry.substr(equals + 1));
    if (IsSecretName(entry.substr(0, equals))) {
      RegisterSecret(value);
    } else if (std::regex_match(value, kUrl)) {
      RegisterUrlSecrets(value);
    }
  }
}

void AddAdminTokenOption(CLI::App* command, std::string* token) {
  Secret(command
             ->add_option(
                 "--admin-token", *token,
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

absl::StatusOr<TimestampMicros> DurationFlag(std::string_view flag, std::string_view text,
                                             TimestampMicros min, TimestampMicros max) {
  auto micros = ParseDuration(text);
  if (!micros.ok())
    return absl::InvalidArgumentError(fmt::format("{}: {}", flag, MessageOf(micros.status())));
  if (*micros < min || *micros > max) {
    return absl::InvalidArgumentError(
        fmt::format("{} {}: must be from {}s to {}d", flag, text, min / kSecond, max / kDay));
  }
  return *micros;
}

}  // namespace bikestream::cli
