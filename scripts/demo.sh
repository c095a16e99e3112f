#!/usr/bin/env bash
# The main job, for now: install, build, then diff and patch every pair of the
# real firmware corpus at every device profile, showing sizes and the RAM a device needs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)"

updraft=build/release/cli/updraft
corpus=../shared/corpus/public
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f "$corpus/pairs.tsv" ]; then
  echo "demo: no corpus at $corpus; using two generated images"
  head -c 300000 /dev/urandom > "$work/old.bin"
  { head -c 100000 "$work/old.bin"; head -c 5000 /dev/urandom; tail -c 190000 "$work/old.bin"; } > "$work/new.bin"
  printf 'name\tarch\told_file\tnew_file\ngenerated\t-\told.bin\tnew.bin\n' > "$work/pairs.tsv"
  corpus=$work
fi

tail -n +2 "$corpus/pairs.tsv" | while IFS=$'\t' read -r name _arch old new _rest; do
  for profile in mcu-tiny mcu linux; do
    patch="$work/$name.$profile.updp"
    "$updraft" diff "$corpus/$old" "$corpus/$new" -o "$patch" --profile "$profile" -q
    "$updraft" patch "$corpus/$old" "$patch" -o "$work/out.bin" -q
    cmp -s "$work/out.bin" "$corpus/$new" || { echo "demo: $name $profile: output differs"; exit 1; }
    printf '%-16s %-9s patch %8d bytes (%5.2f%% of new), device workspace %6d bytes, verified\n' \
      "$name" "$profile" "$(stat -c %s "$patch")" \
      "$(python3 -c "print($(stat -c %s "$patch")*100/$(stat -c %s "$corpus/$new"))")" \
      "$("$updraft" info --json "$patch" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workspace_bytes"])')"
  done
done
echo
echo "Inspect a patch: $updraft info PATCH    Benchmark against bsdiff/xdelta3/zstd: python3 bench/delta_bench.py"
