#!/usr/bin/env bash
# Installs everything Updraft needs to build, test and benchmark, from Debian's packages.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ccache clang clang-format libclang-rt-14-dev
  python3
  # delta engine
  libdivsufsort-dev
  # crypto, storage, server, cli
  libssl-dev libsqlite3-dev sqlite3 libboost-dev nlohmann-json3-dev libcli11-dev
  # MQTT wake-up: client library (updraftd, updraft-agent) and the broker (tests)
  libmosquitto-dev mosquitto
  # server: time zones for maintenance windows
  libhowardhinnant-date-dev tzdata
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev bsdiff xdelta3 zstd xz-utils time
  # server benchmark peers: load generator and reference web server
  wrk nginx
  # hawkBit DDI: the real SWUpdate client and what its test drives it with
  swupdate cpio openssl curl jq
  # Cortex-M build and its emulator
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
  # web console tests: the browser they drive headless
  chromium chromium-driver
)
# Node.js (20 or later, for playwright-core) builds the web console (tsc) and runs
# its tests; any node already on the PATH will do. Some apt sources carry a nodejs
# that bundles npm and conflicts with Debian's npm package, so npm is installed
# separately below, only if nodejs did not bring it.
command -v node >/dev/null || packages+=(nodejs)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v npm >/dev/null; then
  echo "setup: installing npm"
  $SUDO apt-get install -y -qq --no-install-recommends npm
fi

# The web console's tools from npm (typescript, playwright-core), at the versions
# package-lock.json pins; again whenever the lock file is newer than node_modules.
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "setup: npm ci (web console tools)"
  npm ci --no-audit --no-fund
  touch node_modules
fi
echo "setup: done"
