#!/usr/bin/env bash
# The main job: install, build, start updraftd on its embedded SQLite store, publish
# two releases of a real firmware (the corpus's ESP8266 AT images, or generated
# images without the corpus), roll the newer one out in a phased campaign, and run
# a fleet of simulated devices — the real agent, with power cuts, dropped
# connections and corrupted bytes — until the campaign ends. Prints the fleet's
# table; the server keeps running until Ctrl-C so you can look around.
# Usage: scripts/demo.sh [DEVICES]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-100}

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)"

bin=build/release
updraft=$bin/cli/updraft
data=$(mktemp -d /tmp/updraft-demo-XXXXXX)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

corpus=${UPDRAFT_CORPUS:-../shared/corpus}/public
if [ -f "$corpus/esp8266-at-v3.bin" ] && [ -f "$corpus/esp8266-at-v4.bin" ]; then
  v1="$corpus/esp8266-at-v3.bin"
  v2="$corpus/esp8266-at-v4.bin"
else
  echo "demo: no corpus at $corpus; using two generated images"
  head -c 400000 /dev/urandom > "$data/v1.bin"
  { head -c 200000 "$data/v1.bin"; head -c 3000 /dev/urandom; tail -c 197000 "$data/v1.bin"; } > "$data/v2.bin"
  v1="$data/v1.bin"
  v2="$data/v2.bin"
fi

$bin/server/updraftd --data "$data" --port 0 --port-file "$data/port" --tick-ms 200 --active-poll-seconds 5 \
  > "$data/updraftd.log" 2>&1 &
server=$!
for _ in $(seq 100); do [ -s "$data/port" ] && break; sleep 0.1; done
port=$(cat "$data/port")
export UPDRAFT_SERVER="http://127.0.0.1:$port" UPDRAFT_TOKEN_FILE="$data/admin.token"
echo "demo: updraftd listening on $UPDRAFT_SERVER, data in $data"
console="$UPDRAFT_SERVER/#token=$(cat "$data/admin.token")"
echo "demo: open the web console to watch the campaign live: $console"

$updraft product create esp-at --profile mcu-tiny --slot-size 1048576
$updraft release upload "$v1" --product esp-at --version 1.3.0 --security-counter 1 --hardware sim-board
release=$($updraft release upload "$v2" --product esp-at --version 1.4.0 --security-counter 2 --hardware sim-board \
  | sed -n 's/^release \([0-9]*\).*/\1/p')

sim=(--server "127.0.0.1:$port" --token-file "$data/admin.token" --product esp-at --image "$v1" --version 1.3.0
     --target-version 1.4.0 -n "$devices" --threads 4)
# The devices register and check in once, so the campaign can target them by version.
$bin/sim/updraft-sim "${sim[@]}" --max-rounds 2 -q >/dev/null
campaign=$($updraft campaign create --name "1.4 rollout" --release "$release" --version 1.3.0 \
  --phase 10% --phase 100% --success-threshold 0.8 --failure-threshold 0.3 --start \
  | sed -n 's/^campaign \([0-9]*\).*/\1/p' | head -n 1)
echo "demo: campaign $campaign started; $devices devices update with faults on"
$bin/sim/updraft-sim "${sim[@]}" --campaign "$campaign" \
  --power-cut-rate 0.03 --drop-rate 0.02 --corrupt-rate 0.02 --offline-rate 0.1 --low-battery-rate 0.05
$updraft campaign status "$campaign"
echo
echo "demo: admin API $UPDRAFT_SERVER/api/v1 (token in $data/admin.token), metrics $UPDRAFT_SERVER/metrics"
echo "demo: web console $console"
echo "demo: try: $updraft devices --product esp-at    (with UPDRAFT_SERVER and UPDRAFT_TOKEN_FILE as above)"
if [ -t 0 ]; then
  echo "demo: the server keeps running; Ctrl-C stops it"
  wait "$server"
fi
