#!/usr/bin/env bash
# Installs what the tests need (scripts/setup.sh, quick when all is there), then
# builds and runs every test. Usage: scripts/test.sh [preset ...]   (default: release asan)
# The asan preset runs the same tests under AddressSanitizer and UBSan.
# UPDRAFT_SKIP_SETUP=1 skips the install step.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${UPDRAFT_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release asan)
jobs=$(nproc 2>/dev/null || echo 2)

for preset in "${presets[@]}"; do
  echo "== build ($preset)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== test ($preset)"
  ctest --preset "$preset" -j "$jobs"
done
