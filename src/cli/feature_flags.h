// The feature flags: a feature file, and `--features streaming` with its tick and lateness.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "features/feature_spec.h"
#include "job/streaming_feature_sink.h"
#include "warehouse/warehouse.h"

namespace bikestream::cli {

// Adds `--feature-file FILE` (TOML; see docs/features.md). Empty means docs/design.md's defaults.
void AddFeatureFileOption(CLI::App* command, std::string* path);
absl::StatusOr<std::vector<FeatureSpec>> FeaturesFromFlag(const std::string& path);

// `--features streaming` and its settings, on `run` and `ingest`.
struct StreamingFeatureFlags {
  std::string mode = "off";
  std::string feature_file;
  std::string every = "15m";
  std::string allowed_lateness = "10m";
};
void AddStreamingFeatureOptions(CLI::App* command, StreamingFeatureFlags* flags);
// The sink, or nullptr when streaming features are off.
absl::StatusOr<std::unique_ptr<StreamingFeatureSink>> MakeFeatureSink(
    const StreamingFeatureFlags& flags, Warehouse& warehouse);

}  // namespace bikestream::cli
