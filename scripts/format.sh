#!/usr/bin/env bash
# Formats the C++ of src/, tests/, bench/ and fuzz/ with clang-format-14 (.clang-format: Google's
# style, 100 columns). With --check, changes nothing and fails on any file that is not formatted
# (what .ci/run does); fix them with scripts/format.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
mapfile -t files < <(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'bench/*.h' 'fuzz/*.cc')
if [[ ${1:-} == --check ]]; then
  if ! clang-format-14 --dry-run --Werror "${files[@]}"; then
    echo "clang-format: the files above are not formatted; run scripts/format.sh" >&2
    exit 1
  fi
  echo "clang-format: ${#files[@]} files formatted"
else
  clang-format-14 -i "${files[@]}"
fi
