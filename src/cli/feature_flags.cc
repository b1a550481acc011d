#include "cli/feature_flags.h"

#include <fmt/format.h>

#include "cli/cli_common.h"
#include "common/print.h"

namespace bikestream::cli {

void AddFeatureFileOption(CLI::App* command, std::string* path) {
  command->add_option("--feature-file", *path,
                      "TOML file of [[feature]] tables that replaces the default features");
}

absl::StatusOr<std::vector<FeatureSpec>> FeaturesFromFlag(const std::string& path) {
  if (path.empty()) return DefaultFeatures();
  return LoadFeatureFile(path);
}

void AddStreamingFeatureOptions(CLI::App* command, StreamingFeatureFlags* flags) {
  const char* group = "Streaming features";
  command
      ->add_option("--features", flags->mode,
                   "streaming: keep station_features fresh at each tick of event time, as the "
                   "batch job would write them")
      ->check(CLI::IsMember({"off", "streaming"}))
      ->capture_default_str()
      ->group(group);
  AddFeatureFileOption(command, &flags->feature_file);
  command->add_option("--every", flags->every, "Tick interval of the streaming features")
      ->capture_default_str()
      ->group(group);
  command
      ->add_option("--allowed-lateness", flags->allowed_lateness,
                   "Late events this far behind the latest event time rewrite the ticks they "
                   "belong to; later ones count only in ticks still to come")
      ->capture_default_str()
      ->group(group);
}

absl::StatusOr<std::unique_ptr<StreamingFeatureSink>> MakeFeatureSink(
    const StreamingFeatureFlags& flags, Warehouse& warehouse) {
  if (flags.mode != "streaming") return std::unique_ptr<StreamingFeatureSink>();
  auto features = FeaturesFromFlag(flags.feature_file);
  if (!features.ok()) return features.status();
  auto every = DurationFlag("--every", flags.every, kSecond, kMaxFlagDuration);
  if (!every.ok()) return every.status();
  auto lateness = DurationFlag("--allowed-lateness", flags.allowed_lateness, 0, kMaxFlagDuration);
  if (!lateness.ok()) return lateness.status();
  return StreamingFeatureSink::Create(warehouse, warehouse,
                                      StreamingFeatureOptions{.features = std::move(*features),
                                                              .every = *every,
                                                              .allowed_lateness = *lateness,
                                                              .log = [](const std::string& line) {
                                                                Print(stderr, "\n{}\n", line);
                                                              }});
}

}  // namespace bikestream::cli
