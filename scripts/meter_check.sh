#!/usr/bin/env bash
# The water meter check (docs/agent-mcu.md): the whole agent on an emulated
# Cortex-M0 (QEMU microbit) updating itself from a real updraftd over CoAP, through
# updraft-modem's lossy 5 kbit/s air. Builds the firmware (preset cortex-m0) and the
# host programs it needs, then runs scripts/meter_check.py, which prints and checks
# the figures: flash, RAM, bytes on air per patch byte, update times, and with
# --power-cuts N the re-fetching after each power cut. Options: --help.
#
# Host programs come from $UPDRAFT_HOST_BUILD (default build/release), configured
# with the release preset if it does not exist yet. Exit 77: something it needs is
# not installed (QEMU, the ARM toolchain, mbedTLS's source).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in qemu-system-arm arm-none-eabi-g++ python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "meter check: SKIP: $tool is not installed (scripts/setup.sh installs it)"
    exit 77
  fi
done

if [ "${1:-}" != "--help" ] && [ "${1:-}" != "-h" ]; then
  jobs=$(nproc 2>/dev/null || echo 2)
  host_build=${UPDRAFT_HOST_BUILD:-build/release}
  echo "== build (cortex-m0: the meter firmware; $host_build: updraftd, updraft, updraft-modem," \
       "updraft-meter-provision)"
  cmake --preset cortex-m0 >/dev/null
  cmake --build --preset cortex-m0 -j "$jobs" --target updraft_meter.elf
  if [ ! -f "$host_build/build.ninja" ]; then
    if [ "$host_build" = build/release ]; then
      cmake --preset release >/dev/null
    else
      cmake -S . -B "$host_build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
  fi
  cmake --build "$host_build" -j "$jobs" \
    --target updraftd updraft updraft-modem updraft-meter-provision
  export UPDRAFT_HOST_BUILD=$host_build
fi
exec python3 scripts/meter_check.py "$@"
