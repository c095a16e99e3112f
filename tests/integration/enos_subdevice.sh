#!/usr/bin/env bash
# Six EnOS sub-devices at once against a real updraftd (docs/api/enos.md). Each
# is what a device built against the EnOS document does, made of curl, md5sum
# and sed only: poll /checkversion on the edge port, download /version/{id},
# check the MD5 it was given, report the download result, progress 0 -> 60 ->
# 100, then success. Checks that all six end up on the new version, that no
# more than five upgrade at the same time (the document's "up to 5 devices"),
# and that the console's live stream carried their progress.
# Usage: enos_subdevice.sh UPDRAFTD UPDRAFT      exit 77: curl or md5sum missing
set -euo pipefail
updraftd=$1
updraft=$2
for tool in curl md5sum sed; do
  command -v "$tool" >/dev/null || { echo "enos_subdevice: $tool is not installed"; exit 77; }
done

dir=$(mktemp -d /tmp/updraft-enos-XXXXXX)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "enos_subdevice: FAILED: $*" >&2
  echo "--- updraftd.log" >&2
  tail -30 "$dir/updraftd.log" >&2 || true
  exit 1
}

"$updraftd" --data "$dir" --port 0 --port-file "$dir/port" --tick-ms 100 \
  --enos-listen 127.0.0.1:0 >"$dir/updraftd.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  grep -q "EnOS sub-device endpoints" "$dir/updraftd.log" 2>/dev/null && [ -s "$dir/port" ] && break
  sleep 0.1
done
port=$(cat "$dir/port")
edge=$(sed -n 's|.*EnOS sub-device endpoints on http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/updraftd.log")
[ -n "$edge" ] || fail "updraftd did not open the EnOS port"
export UPDRAFT_SERVER="http://127.0.0.1:$port" UPDRAFT_TOKEN_FILE="$dir/admin.token"
token=$(cat "$dir/admin.token")

"$updraft" product create meter --profile mcu-tiny >/dev/null
for n in 1 2 3 4 5 6; do
  "$updraft" devices register "sub-$n" --product meter --hardware board-a --serial "SN-000$n" >/dev/null
done
head -c 30000 /dev/urandom >"$dir/v1.bin"
head -c 30000 /dev/urandom >"$dir/v2.bin"
"$updraft" release upload "$dir/v1.bin" --product meter --version 1.0.0 --security-counter 1 \
  --hardware board-a --enos-version v1.0.0.3 >/dev/null
release=$("$updraft" release upload "$dir/v2.bin" --product meter --version 2.0.0 \
  --security-counter 2 --hardware board-a --enos-version v2.0.0.1 | sed -n 's/^release \([0-9]*\):.*/\1/p')

# The console's live stream, as the browser opens it: a ticket, then the stream.
ticket=$(curl -sf -X POST -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/api/v1/events/ticket" | sed -n 's/.*"ticket":"\([0-9a-f]*\)".*/\1/p')
curl -sN --max-time 60 "http://127.0.0.1:$port/api/v1/events?ticket=$ticket" >"$dir/events.txt" &

"$updraft" campaign create --release "$release" --name enos --phase 100% --start >/dev/null

# One sub-device: curl, md5sum and sed. Logs "start" when it is given the update
# and "done" before it reports success, with times, to $dir/sub-N.log.
subdevice() {
  local n=$1 base="http://127.0.0.1:$edge" answer code url sign id
  for _ in $(seq 300); do
    answer=$(curl -sf -X POST "$base/checkversion" \
      -d "{\"assetId\":\"sub-$n\",\"version\":\"v1.0.0.3\",\"serialNum\":\"SN-000$n\"}") || return 1
    code=$(echo "$answer" | sed -n 's/.*"code":\([0-9]*\).*/\1/p')
    [ "$code" = 1 ] && break
    sleep 0.2
  done
  [ "$code" = 1 ] || { echo "no update" >>"$dir/sub-$n.log"; return 1; }
  echo "$(date +%s.%N) start" >>"$dir/sub-$n.log"
  url=$(echo "$answer" | sed -n 's/.*"downloadurl":"\([^"]*\)".*/\1/p')
  sign=$(echo "$answer" | sed -n 's/.*"sign":"\([^"]*\)".*/\1/p')
  id=${url##*/}
  curl -sf -o "$dir/sub-$n.bin" "$base$url" || return 1
  if [ "$(md5sum <"$dir/sub-$n.bin" | cut -d' ' -f1)" != "$sign" ]; then
    curl -sf -X POST "$base/downloadresult/$id" \
      -d "{\"assetId\":\"sub-$n\",\"code\":0,\"message\":\"md5 check fail\"}"
    echo "md5 mismatch" >>"$dir/sub-$n.log"
    return 1
  fi
  curl -sf -X POST "$base/downloadresult/$id" \
    -d "{\"assetId\":\"sub-$n\",\"code\":1,\"message\":\"download success\"}" || return 1
  for process in 0 60 100; do
    curl -sf -X POST "$base/updateresult" -d "{\"assetId\":\"sub-$n\",\"version\":\"\",\
\"desc\":\"updating\",\"flag\":1,\"process\":$process,\"errcode\":0}" || return 1
    sleep 0.4
  done
  echo "$(date +%s.%N) done" >>"$dir/sub-$n.log"
  curl -sf -X POST "$base/updateresult" -d "{\"assetId\":\"sub-$n\",\"version\":\"v2.0.0.1\",\
\"desc\":\"update completed\",\"flag\":2,\"process\":100,\"errcode\":0}" || return 1
}

pids=()
for n in 1 2 3 4 5 6; do
  subdevice "$n" &
  pids+=($!)
done
for n in 1 2 3 4 5 6; do
  wait "${pids[$((n - 1))]}" || fail "sub-$n: $(cat "$dir/sub-$n.log" 2>/dev/null)"
done

# At most five upgrades at any moment, and exactly five at the busiest one.
busiest=$(cat "$dir"/sub-*.log | sort -n | awk '$2 == "start" { n++ } $2 == "done" { n-- }
  n > max { max = n } END { print max }')
echo "enos_subdevice: at most $busiest of 6 sub-devices upgraded at the same time"
[ "$busiest" = 5 ] || fail "$busiest upgrades at once; the limit is 5"

for n in 1 2 3 4 5 6; do
  state=$(curl -sf -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/devices/sub-$n" |
    sed -n 's/.*"deployments":\[.*"state":"\([a-z_]*\)".*/\1/p')
  [ "$state" = succeeded ] || fail "sub-$n ends $state"
  cmp -s "$dir/sub-$n.bin" "$dir/v2.bin" || fail "sub-$n downloaded other bytes"
done
for _ in $(seq 50); do grep -q '"progress":60' "$dir/events.txt" && break; sleep 0.1; done
grep -q '"progress":60' "$dir/events.txt" || fail "the live stream showed no progress of 60"
echo "enos_subdevice: 6 sub-devices updated to v2.0.0.1; the live stream showed their progress"
