#!/usr/bin/env bash
# clang-tidy, with the checks in .clang-tidy (and tests/.clang-tidy), over every source file in
# src/, tests/, bench/ and fuzz/, two at a time (TIDY_JOBS); fails on any finding. Builds
# nothing: it configures build-tidy with clang for its compile_commands.json. Extra arguments
# are regular expressions that narrow the files, e.g. scripts/tidy.sh src/pubsub/.
#
# --unity (CI's): src/ as the unity build compiles it, sixteen files a run, so that each header
# is parsed once for them all (3 minutes instead of 8 on two cores); bench/ and fuzz/ file by
# file, as their own .clang-tidy asks (a unity file lives in the build tree, out of their
# reach); tests/ not at all. Checks that look only at a run's main file (misc-unused-using-decls)
# see less of src/ this way: the file-by-file run before a commit is the thorough one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh
unity=false
if [[ ${1:-} == --unity ]]; then
  unity=true
  shift
fi
# The fuzz configuration is the one whose compile_commands.json lists every source file: the
# fuzz targets and the benchmarks too.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-tidy -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DBIKESTREAM_FUZZ=ON >/dev/null
files=("$@")
if ((${#files[@]} == 0)); then files=("^$root/(src|tests|bench|fuzz)/.*\.cc$"); fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
if $unity; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-tidy-unity -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DBIKESTREAM_FUZZ=ON -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
  run-clang-tidy-14 -p build-tidy-unity -j "${TIDY_JOBS:-2}" -quiet \
    -header-filter="^$root/(src|tests|bench|fuzz)/" "^$root/build-tidy-unity/src/.*\.cxx$" \
    >"$log" 2>&1 || status=$?
  files=("^$root/(bench|fuzz)/.*\.cc$")
fi
run-clang-tidy-14 -p build-tidy -j "${TIDY_JOBS:-2}" -quiet \
  -header-filter="^$root/(src|tests|bench|fuzz)/" "${files[@]}" >>"$log" 2>&1 || status=$?
# run-clang-tidy exits non-zero only when a file fails to compile; a warning is a finding too.
# Each finding once (a header's is reported by every file that includes it), without colours
# and without the lines that only name each clang-tidy run.
sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -v -e '^clang-tidy-14 ' -e '^[0-9]* warnings\? generated\.$' \
  -e '^Suppressed [0-9]* warnings' -e '^Use -header-filter=' -e '^Running clang-tidy' \
  -e '^Enabled checks:' | awk '/: (warning|error): /{seen = ($0 in shown); shown[$0] = 1} !seen' || true
findings=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | { grep -E ': (warning|error): ' || true; } | sort -u | wc -l)
if ((status != 0 || findings != 0)); then
  echo "clang-tidy: $findings findings (exit status $status)" >&2
  exit 1
fi
echo "clang-tidy: no findings"
