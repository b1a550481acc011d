#!/usr/bin/env bash
# Builds with clang and ThreadSanitizer into build-tsan, and runs under it the tests whose code
# runs threads (ctest label "threads": the streaming runner, the ingestor's concurrent writers,
# the console's warehouse gate and job watcher,
# the broker queue, the HTTP endpoints and the feature server, the MQTT source, and the Pub/Sub push and pull jobs end
# to end). Any report fails the run. The build also checks the lock annotations (clang's
# -Wthread-safety).
# Extra arguments go to ctest, e.g. -LE pubsub to leave out the emulator's test.
set -euo pipefail
cd "$(dirname "$0")/.."
# halt_on_error: the first report fails the test. The suppressions are for third-party code
# only, each with the reason.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan-suppressions.txt:external_symbolizer_path=/usr/bin/llvm-symbolizer-14}
# Only what runs here is built: the test binaries labelled "threads" (threads_labels and
# pubsub_job_test in tests/CMakeLists.txt), and the binary pubsub_job_test drives unless
# -LE pubsub leaves that test out.
targets="console_test event_test gcp_test http_test ingest_test job_test mqtt_test pubsub_unit_test serving_test
  spanner_client_test"
if [[ " $* " != *" -LE pubsub "* ]]; then targets+=" bikestream pubsub_job_test"; fi
CC=clang-14 CXX=clang++-14 BUILD_DIR=build-tsan BUILD_TARGETS="$targets" \
  scripts/build.sh -DBIKESTREAM_TSAN=ON -DBIKESTREAM_BENCH=OFF
ctest --test-dir build-tsan --output-on-failure -j2 -L threads "$@"
