#!/usr/bin/env bash
# Prints the dependencies between bikestream's libraries as CMake declares them (from
# `cmake --graphviz`), one library a line: the graph src/README.md shows.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S . -B "$work" -G Ninja -DBUILD_TESTING=OFF -DBIKESTREAM_BENCH=OFF --graphviz="$work/deps.dot" >/dev/null
python3 - "$work/deps.dot" <<'PY'
import collections, re, sys
text = open(sys.argv[1]).read()
names = dict(re.findall(r'"(node\d+)" \[ label = "([^"]+)"', text))
edges = collections.defaultdict(set)
for a, b in re.findall(r'"(node\d+)" -> "(node\d+)"', text):
    if names[a].startswith("bikestream_") and names[b].startswith("bikestream_"):
        edges[names[a]].add(names[b])
for library in sorted(edges):
    print(library, "->", " ".join(sorted(edges[library])))
PY
