#!/usr/bin/env bash
# Builds with AddressSanitizer and UndefinedBehaviorSanitizer and runs the tests under them.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
BUILD_DIR=build-sanitize scripts/build.sh -DBIKESTREAM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# Three at a time, as scripts/test.sh: the end-to-end tests mostly wait on the processes and
# servers they start.
ctest --test-dir build-sanitize --output-on-failure -j3 "$@"
