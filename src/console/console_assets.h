// The console's page, embedded in the binary at build time (embed_assets.cmake): our own HTML,
// CSS and JavaScript, and uPlot from npm (package-lock.json), so the binary serves everything
// itself and works offline.
#pragma once

#include <span>
#include <string_view>

namespace bikestream {

struct ConsoleAsset {
  std::string_view path;  // As requested, e.g. "/" or "/assets/console.js".
  std::string_view content_type;
  std::string_view body;
};

std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace bikestream
