#!/usr/bin/env bash
# /api/v1/health and /metrics tell the truth about the store and the disk (issue
# 15: a full store answered "ok"). A real updraftd keeps its data on a 48 MiB
# tmpfs; the test fills it, then frees it:
#   - healthy: 200 "ok", the store writable, free bytes reported (also in /metrics);
#   - full: 503 "degraded", disk low and the store refusing the probe's write,
#     updraft_store_writable 0; a release upload then fails with the reason and
#     without the server's own paths, and leaves no file behind;
#   - freed: 200 "ok" again (the probe runs at most once a second).
# Usage: health_test.sh UPDRAFTD     exit 77: curl missing or tmpfs cannot be mounted
set -euo pipefail
updraftd=$1
command -v curl >/dev/null || { echo "health_test: curl is not installed"; exit 77; }

dir=$(mktemp -d /tmp/updraft-health-XXXXXX)
data="$dir/data"
mkdir -p "$data"
server=""
mounted=0
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ "$mounted" = 1 ] && umount "$data" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
if ! mount -t tmpfs -o size=48m tmpfs "$data" 2>/dev/null; then
  echo "health_test: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)"
  exit 77
fi
mounted=1
fail() {
  echo "health_test: FAILED: $*" >&2
  tail -30 "$dir/updraftd.log" >&2 || true
  exit 1
}

"$updraftd" --data "$data" --port 0 --port-file "$dir/port" --min-free-disk-mb 8 \
  >"$dir/updraftd.log" 2>&1 &
server=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && [ -s "$data/admin.token" ] && break; sleep 0.1; done
[ -s "$dir/port" ] || fail "updraftd did not start"
base="http://127.0.0.1:$(cat "$dir/port")"
token=$(cat "$data/admin.token")

# health <expected status>: prints the body
health() {
  local out status
  out=$(curl -s -w '\n%{http_code}' "$base/api/v1/health")
  status=${out##*$'\n'}
  [ "$status" = "$1" ] || fail "health answered $status, expected $1: ${out%$'\n'*}"
  echo "${out%$'\n'*}"
}
wait_for_health() {  # the probe result is kept for the second it was made in
  for _ in $(seq 30); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/health")" = "$1" ] && return 0
    sleep 0.2
  done
  fail "health never answered $1"
}

body=$(health 200)
echo "$body" | grep -q '"status":"ok"' || fail "healthy body: $body"
echo "$body" | grep -q '"writable":true' || fail "store not writable: $body"
echo "$body" | grep -Eq '"free_bytes":[1-9]' || fail "no free bytes: $body"
metrics=$(curl -s "$base/metrics")
echo "$metrics" | grep -q '^updraft_store_writable 1$' || fail "metrics: store writable"
echo "$metrics" | grep -Eq '^updraft_disk_free_bytes [1-9][0-9]*$' || fail "metrics: free bytes"

curl -sf -X POST -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"meter","profile":"mcu"}' "$base/api/v1/products" >/dev/null || fail "product"

# Fill the file system; keep the fill to free it again.
dd if=/dev/zero of="$data/fill" bs=1M count=64 2>/dev/null || true
wait_for_health 503
body=$(health 503)
echo "$body" | grep -q '"status":"degraded"' || fail "full body: $body"
echo "$body" | grep -q '"low":true' || fail "disk not low: $body"
echo "$body" | grep -q '"writable":false' || fail "a full store still took the write: $body"
case "$body" in *"$dir"*) fail "health shows the server's paths: $body" ;; esac
metrics=$(curl -s "$base/metrics")
echo "$metrics" | grep -q '^updraft_store_writable 0$' || fail "metrics: store still writable"

# An upload on a full disk: refused with the reason, no path, nothing left behind.
head -c 4096 /dev/urandom >"$dir/image.bin"
answer=$(curl -s -w '\n%{http_code}' -X POST -H "authorization: Bearer $token" \
  -H 'content-type: application/octet-stream' --data-binary @"$dir/image.bin" \
  "$base/api/v1/releases?product=meter&version=1.0.0&security_counter=1&hardware=board-a")
status=${answer##*$'\n'}
case "$status" in 2*) fail "an upload on a full disk was accepted: $answer" ;; esac
case "$answer" in *"$dir"*) fail "the upload's error shows the server's paths: $answer" ;; esac
echo "$answer" | grep -qi "space" || fail "the upload's error does not say the disk is full: $answer"
leftover=$(find "$data" -type f \( -path '*/incoming/*' -o -path '*/artifacts/images/*' \) | wc -l)
[ "$leftover" = 0 ] || fail "a failed upload left $leftover file(s)"

rm -f "$data/fill"
wait_for_health 200
body=$(health 200)
echo "$body" | grep -q '"writable":true' || fail "store not writable after freeing: $body"
echo "health_test: ok"
