#!/usr/bin/env bash
# Installs missing dependencies and builds bikestream into build/ (or $BUILD_DIR).
# Extra arguments go to cmake's configure step, e.g. -DBIKESTREAM_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir"
