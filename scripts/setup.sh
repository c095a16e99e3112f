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
  # the PostgreSQL store: libpq, and the server its tests start in a temp dir
  libpq-dev postgresql
  # MQTT wake-up: client library (updraftd, updraft-agent) and the broker (tests)
  libmosquitto-dev mosquitto
  # CoAP device API: libcoap (updraftd, tests) and its coap-client-openssl (tests)
  libcoap3-dev libcoap3-bin
  # server: time zones for maintenance windows
  libhowardhinnant-date-dev tzdata
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev bsdiff xdelta3 zstd xz-utils time squashfs-tools e2fsprogs
  # updraft-agent: systemd-analyze checks the shipped unit; the real boot loaders'
  # environment tools (grub-editenv, fw_printenv/fw_setenv)
  systemd grub-common libubootenv-tool
  # the real-reboot test: a QEMU PC booting Debian's kernel through GRUB into a
  # busybox root file system
  qemu-system-x86 grub-pc-bin busybox-static linux-image-amd64 kmod cpio
  # the U-Boot script test: Debian's U-Boot for QEMU's ARM machine, and mkimage
  u-boot-qemu u-boot-tools
  # server benchmark peers: load generator and reference web server
  wrk nginx
  # hawkBit DDI: the real SWUpdate client and what its test drives it with
  swupdate cpio openssl curl jq
  # Mender: the tool operators build .mender artifacts with, the client daemon the
  # integration test runs (in its own mount namespace: unshare), zlib reads them
  mender-artifact mender-client util-linux zlib1g-dev
  # Cortex-M build and its emulator
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
  # device crypto: `apt-get source` unpacks mbedTLS's source package with dpkg-source
  dpkg-dev debian-archive-keyring
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

# mbedTLS, the device's ECDSA P-256 (crypto/mbedtls/), is compiled from Debian's source
# package with our own configuration, so its source is fetched, never copied into the
# repository. It goes to $UPDRAFT_DEPS_DIR/mbedtls-2.28.3 (default
# /var/cache/updraft/mbedtls-2.28.3), where crypto/mbedtls/CMakeLists.txt looks for it
# (its cache variable UPDRAFT_MBEDTLS_DIR overrides that). Skipped when it is there.
deps_dir=${UPDRAFT_DEPS_DIR:-/var/cache/updraft}
mbedtls_dir=$deps_dir/mbedtls-2.28.3
if [ -f "$mbedtls_dir/library/ecdsa.c" ]; then
  echo "setup: mbedTLS source present in $mbedtls_dir"
else
  echo "setup: fetching mbedTLS 2.28.3 (Debian source package) into $mbedtls_dir"
  src_list=/etc/apt/sources.list.d/updraft-src.sources
  if [ ! -f "$src_list" ]; then
    $SUDO tee "$src_list" >/dev/null <<'SOURCES'
# Debian source packages, for `apt-get source` in Updraft's scripts/setup.sh.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
  apt-cache showsrc mbedtls 2>/dev/null | grep -q '^Version: 2\.28\.3-' || $SUDO apt-get update -qq
  $SUDO mkdir -p "$deps_dir"
  # Unpack beside the target and rename, so an interrupted run leaves no half tree.
  work=$($SUDO mktemp -d "$deps_dir/.fetch.XXXXXX")
  # As root, apt warns that it downloads unsandboxed; it still checks every file
  # against the hashes in the signed Sources index.
  $SUDO sh -c 'cd "$1" && apt-get source -qq mbedtls' _ "$work" 2>&1 | grep -v 'unsandboxed as root' || true
  if [ ! -f "$work/mbedtls-2.28.3/library/ecdsa.c" ]; then
    echo "setup: apt-get source mbedtls did not unpack mbedtls-2.28.3 (is the deb-src entry in $src_list?)" >&2
    $SUDO rm -rf "$work"
    exit 1
  fi
  $SUDO mv "$work/mbedtls-2.28.3" "$mbedtls_dir"
  $SUDO rm -rf "$work"
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
