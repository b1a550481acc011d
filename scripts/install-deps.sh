#!/usr/bin/env bash
# Installs what bikestream needs to build, test and benchmark, from Debian's packages.
# Idempotent: installs only what is missing, so it is cheap to run before every build.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libsqlite3-dev sqlite3 libsimdjson-dev libcli11-dev libfmt-dev libabsl-dev zlib1g-dev
  libgtest-dev libgmock-dev
  # clang: the fuzzers and the ThreadSanitizer build; llvm-14 for llvm-symbolizer-14, which
  # names the functions in a sanitizer's report; clang-tidy-14 for scripts/tidy.sh, clang-format-14 for
  # scripts/format.sh.
  clang-14 libclang-rt-14-dev llvm-14 clang-tidy-14 clang-format-14
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcpp-httplib-dev libtomlplusplus-dev
  prometheus-cpp-dev
  # The PostgreSQL warehouse: libpq to build; the server and psql for its tests and benchmark.
  libpq-dev postgresql-15 postgresql-client-15
  # MQTT: libmosquitto to build; Debian's broker for the tests.
  libmosquitto-dev mosquitto
  # The console's page is tested in a real browser (tests/console/browser_test.mjs).
  chromium
  # bench/serving_bench's load client.
  wrk
)
# The console's page takes its plotting library from npm at build time (`npm ci`). A machine
# whose Node.js came from elsewhere (NodeSource's includes npm) keeps it.
if ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
