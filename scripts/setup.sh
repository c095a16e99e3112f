#!/usr/bin/env bash
# Installs everything Updraft needs to build, test and benchmark, from Debian's packages.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang clang-format libclang-rt-14-dev
  # delta engine
  libdivsufsort-dev libzstd-dev zstd liblzma-dev xz-utils
  # crypto, storage, server, cli
  libssl-dev libsqlite3-dev sqlite3 libboost-dev nlohmann-json3-dev libcli11-dev
  # server: time zones for maintenance windows
  libhowardhinnant-date-dev tzdata
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev bsdiff xdelta3 time
  # server benchmark peers: load generator and reference web server
  wrk nginx
  # hawkBit DDI: the real SWUpdate client and what its test drives it with
  swupdate cpio openssl curl jq
  # Cortex-M build and its emulator
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
