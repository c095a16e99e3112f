#!/usr/bin/env bash
# Runs every fuzz target for a fixed number of executions (default 10 million
# each) and prints one line per target: executions, coverage (libFuzzer's `cov`
# edges and `ft` features), corpus size, crashes and time. Builds the `fuzz`
# preset first. Seeds from fuzz/corpus/<target> are copied to a scratch corpus
# under $WORK, so the repository's corpus is left as it is; crash inputs stay in
# $WORK/<target>/crashes for replay (`build/fuzz/fuzz/<target> <file>`).
# Not run by CI (CI builds the targets and runs each briefly: scripts/fuzz_smoke.sh).
#
#   bash bench/fuzz.sh [--runs N] [--jobs J] [--targets "patch_fuzz manifest_fuzz"]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=10000000
jobs=$(nproc)
targets="patch_fuzz manifest_fuzz request_fuzz firmware_fuzz mender_fuzz"
work=${WORK:-/tmp/updraft-fuzz}

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

cd "$root"
cmake --preset fuzz > /dev/null
cmake --build build/fuzz --target $targets

# One libFuzzer process per target runs `runs` executions; J targets at a time.
run_target() {
  local target=$1 dir="$work/$1"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/crashes"
  cp fuzz/corpus/"$target"/* "$dir/corpus/"
  local start=$SECONDS status=0
  build/fuzz/fuzz/"$target" "$dir/corpus" -runs="$runs" -artifact_prefix="$dir/crashes/" \
    -print_final_stats=1 > "$dir/log" 2>&1 || status=$?
  echo "$((SECONDS - start))" > "$dir/seconds"
  echo "$status" > "$dir/status"
}

echo "fuzzing $targets: $runs executions each, $jobs at a time (logs in $work)"
running=0
for target in $targets; do
  run_target "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

failed=0
printf '%-14s %14s %8s %8s %8s %8s %8s\n' target executions cov ft corpus crashes seconds
for target in $targets; do
  dir="$work/$target"
  # The last status line libFuzzer prints: "#N DONE cov: C ft: F corp: K/..."
  last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$dir/log" | grep -oE '[0-9]+$' || echo 0)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo '?')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo '?')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+' || echo '?')
  crashes=$(find "$dir/crashes" -type f | wc -l)
  printf '%-14s %14s %8s %8s %8s %8s %8s\n' "$target" "$execs" "$cov" "$ft" "$corp" "$crashes" \
    "$(cat "$dir/seconds")"
  if [ "$crashes" -gt 0 ] || [ "$(cat "$dir/status")" != 0 ]; then
    failed=1
    echo "  $target: see $dir/log and $dir/crashes" >&2
  fi
done
exit "$failed"
