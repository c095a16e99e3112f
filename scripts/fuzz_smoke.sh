#!/usr/bin/env bash
# CI's fuzz check: builds the fuzz targets in the `fuzz` preset (clang, libFuzzer,
# ASan, UBSan), so the preset cannot rot unseen, and runs each target for a few
# seconds from its seed corpus. A crash, a violated property or a build error
# fails it. The long runs with figures are bench/fuzz.sh.
#   scripts/fuzz_smoke.sh [seconds per target, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
targets="patch_fuzz manifest_fuzz request_fuzz firmware_fuzz mender_fuzz"
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (fuzz)"
cmake --preset fuzz > /dev/null
cmake --build build/fuzz -j "$jobs" --target $targets

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
  echo "== fuzz $target for ${seconds}s"
  mkdir -p "$scratch/$target"
  # New inputs go to the scratch folder; the repository's seeds are only read.
  if ! build/fuzz/fuzz/"$target" "$scratch/$target" "fuzz/corpus/$target" \
      -max_total_time="$seconds" -artifact_prefix="$scratch/" -print_final_stats=1 \
      > "$scratch/$target.log" 2>&1; then
    tail -40 "$scratch/$target.log"
    echo "fuzz_smoke: $target failed; the input is in the log above" >&2
    exit 1
  fi
  grep -E 'stat::number_of_executed_units|^#[0-9]+ +DONE' "$scratch/$target.log" || true
done
