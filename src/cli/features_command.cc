// `bikestream features`: compute station features in the warehouse, once, on a schedule, or
// over a range of ticks; `bikestream features verify` checks stored rows against raw_events.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/feature_flags.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/status.h"
#include "job/feature_job.h"

namespace bikestream::cli {
namespace {

struct FeaturesFlags {
  WarehouseFlags warehouse;
  std::string feature_file;
  std::optional<std::string> as_of;
  std::optional<std::string> every;
  std::optional<std::string> backfill;
  std::optional<std::string> admin;
  std::string admin_token;
};

constexpr const char* kDefaultEvery = "15m";

struct Setup {
  std::unique_ptr<Warehouse> warehouse;
  std::vector<FeatureSpec> features;
  DurationMicros every;
};

absl::StatusOr<Setup> Prepare(const FeaturesFlags& flags, OpenMode mode) {
  auto features = FeaturesFromFlag(flags.feature_file);
  if (!features.ok()) return features.status();
  auto every =
      DurationFlag("--every", flags.every.value_or(kDefaultEvery), kSecond, kMaxFlagDuration);
  if (!every.ok()) return every.status();
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse, mode);
  if (!warehouse.ok()) return warehouse.status();
  return Setup{std::move(*warehouse), std::move(*features), *every};
}

absl::StatusOr<TimestampMicros> AsOf(const std::optional<std::string>& flag) {
  auto as_of = ParseTimestamp(*flag);
  if (!as_of.ok())
    return absl::InvalidArgumentError(fmt::format("--as-of: {}", MessageOf(as_of.status())));
  return *as_of;
}

FeatureJobOptions JobOptions(const Setup& setup) {
  return FeatureJobOptions{.features = setup.features,
                           .every = setup.every,
                           .log = [](const std::string& line) { Print(stderr, "{}\n", line); }};
}

int Backfill(Setup& setup, const std::string& range) {
  const auto dots = range.find("..");
  if (dots == std::string::npos)
    return Fail("--backfill FROM..TO, e.g. 2025-11-16T00:00:00Z..2025-11-17T00:00:00Z");
  auto from = ParseTimestamp(range.substr(0, dots));
  auto to = ParseTimestamp(range.substr(dots + 2));
  if (!from.ok()) return Fail(fmt::format("--backfill FROM: {}", MessageOf(from.status())));
  if (!to.ok()) return Fail(fmt::format("--backfill TO: {}", MessageOf(to.status())));
  if (*to < *from) return Fail("--backfill: TO is before FROM");
  if (auto status = BackfillFeatures(*setup.warehouse, JobOptions(setup), *from, *to); !status.ok())
    return Fail(status);
  return kExitOk;
}

int Schedule(Setup& setup, const FeaturesFlags& flags) {
  FeatureJobOptions options = JobOptions(setup);
  options.admin = flags.admin;
  options.admin_token = flags.admin_token;
  if (auto status = RunFeatureSchedule(*setup.warehouse, options); !status.ok())
    return Fail(status);
  return kExitOk;
}

int RunFeatures(const FeaturesFlags& flags) {
  auto setup = Prepare(flags, OpenMode::kMustExist);
  if (!setup.ok()) return Fail(setup.status());
  if (flags.backfill) return Backfill(*setup, *flags.backfill);
  if (flags.every && !flags.as_of) return Schedule(*setup, flags);
  const FeatureJobOptions options = JobOptions(*setup);
  TimestampMicros as_of;
  if (flags.as_of) {
    auto given = AsOf(flags.as_of);
    if (!given.ok()) return Fail(given.status());
    as_of = *given;
  } else {
    auto chosen = ChooseDefaultTick(*setup->warehouse, options);
    if (!chosen.ok()) return Fail(chosen.status());
    Print(stderr, "{}\n", chosen->why);
    as_of = chosen->as_of;
  }
  if (auto status = RefreshFeaturesAt(*setup->warehouse, options, as_of); !status.ok()) {
    return Fail(status);
  }
  return kExitOk;
}

int Verify(const FeaturesFlags& flags) {
  auto setup = Prepare(flags, OpenMode::kMustExist);
  if (!setup.ok()) return Fail(setup.status());
  if (!flags.as_of) return Fail("verify needs --as-of TS: the as_of whose stored rows to check");
  auto as_of = AsOf(flags.as_of);
  if (!as_of.ok()) return Fail(as_of.status());
  auto verification = VerifyFeatures(*setup->warehouse, setup->features, *as_of);
  if (!verification.ok()) return Fail(verification.status());
  for (const FeatureDifference& d : verification->differences) {
    Print("{} {} {}: {}\n", d.station_id, d.feature_name, d.window_len, d.what);
  }
  Print(stderr, "verify {}: {} rows expected, {} stored, {} differences\n", FormatRfc3339(*as_of),
        verification->expected, verification->stored, verification->differences.size());
  return verification->differences.empty() ? kExitOk : kExitFailure;
}

}  // namespace

void AddFeaturesCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<FeaturesFlags>();
  CLI::App* command = app.add_subcommand(
      "features", "Compute per-station features into station_features (once, --every, --backfill)");
  command->footer(
      "Examples:\n"
      "  bikestream features --as-of 2025-11-16T02:15:00Z\n"
      "  bikestream features --every 15m --admin 127.0.0.1:8082   # as Cloud Scheduler's */15\n"
      "  bikestream features --backfill 2025-11-16T00:00:00Z..2025-11-17T00:00:00Z\n"
      "  bikestream features verify --as-of 2025-11-16T02:15:00Z\n"
      "Re-running an as_of replaces its rows. Windows hold as_of - W < ts <= as_of (event time).");
  AddWarehouseOptions(command, &flags->warehouse);
  AddFeatureFileOption(command, &flags->feature_file);
  command->add_option(
      "--as-of", flags->as_of,
      "Instant (2025-11-16T02:15:00Z). Default: now, floored to the tick of --every; on a "
      "warehouse of past data, the data's latest tick");
  command->add_option(
      "--every", flags->every,
      "Keep running and compute at each tick aligned to the clock (default tick: 15m)");
  command->add_option("--backfill", flags->backfill,
                      "Compute every tick in FROM..TO (instants, e.g. 2025-11-16..2025-11-17)");
  command->add_option("--admin", flags->admin,
                      "With --every: admin endpoint HOST:PORT; POST /run computes now");
  AddAdminTokenOption(command, &flags->admin_token);
  CLI::App* verify = command->add_subcommand("verify",
                                             "Recompute from raw_events and diff against the "
                                             "stored rows of --as-of; non-zero if any differ");
  verify->fallthrough();  // `features verify --as-of TS` takes the parent's flags.
  verify->callback([flags, &exit_code] { exit_code = Verify(*flags); });
  command->callback([flags, command, verify, &exit_code] {
    if (!command->got_subcommand(verify)) exit_code = RunFeatures(*flags);
  });
}

}  // namespace bikestream::cli
