#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration) with ctest,
# three at a time: on two cores, the end-to-end tests spend much of their time waiting for the
# emulator, the servers and the processes they start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j3 "$@"
