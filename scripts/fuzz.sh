#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS (default 60) on a copy
# of the seed corpus in fuzz/corpus/. Fails on any crash or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
scripts/install-deps.sh
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBIKESTREAM_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz --target event_parser_fuzz json_lines_fuzz redact_fuzz station_status_fuzz labels_fuzz
for target in event_parser_fuzz:event json_lines_fuzz:json_lines redact_fuzz:redact station_status_fuzz:station_status labels_fuzz:labels; do
  binary=${target%%:*}
  corpus=${target##*:}
  work=$(mktemp -d)
  cp fuzz/corpus/"$corpus"/* "$work"/
  echo "fuzzing $binary for ${seconds}s"
  build-fuzz/fuzz/"$binary" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    "$work" 2>&1 | tail -n 12
  status=${PIPESTATUS[0]}
  rm -rf "$work"
  if [[ $status -ne 0 ]]; then
    echo "$binary found a failing input (see above)" >&2
    exit "$status"
  fi
done
