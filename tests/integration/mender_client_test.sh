#!/usr/bin/env bash
# The real mender-client (Debian's, the Go daemon) against updraftd's Mender
# device API on loopback (docs/api/mender.md). One client, gw-a:
#   auth     - it asks; it waits pending; the operator accepts it; its inventory arrives;
#   install  - a campaign with a .mender made by mender-artifact (single-file module)
#              reaches it; the file is installed; the deployment succeeds;
#   corrupt  - the next release's stored bytes are damaged after upload: the client
#              refuses them, reports failure and its log, which the deployment keeps;
# and a second client, gw-b, that the operator rejects: it never gets its deployment.
# The client reads /etc/mender/artifact_info and /usr/share/mender/identity whatever
# its flags say, so each runs in its own mount namespace (unshare -m) with its own
# directories bound over those two; nothing on the machine changes.
# The operator's side goes through the `updraft` CLI where it has a command.
# Usage: mender_client_test.sh UPDRAFTD UPDRAFT. Exit 0 pass, 1 fail, 77 skip.
# Every wait is bounded; every process started here is stopped at exit.
set -euo pipefail
UPDRAFTD=$1
source "$(dirname "$0")/lib.sh"
UPDRAFT=$2
for tool in mender mender-artifact; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool not installed (Debian packages mender-client, mender-artifact; scripts/setup.sh installs them)"
    exit 77
  fi
done
if ! unshare -m true 2>/dev/null; then
  echo "SKIP: no mount namespaces here (unshare -m needs CAP_SYS_ADMIN)"
  exit 77
fi
need_tools curl jq sha256sum

start_work mender
WAIT_POLL=0.3
# To stderr: a failure inside $(...) still shows, and set -e ends the script.
fail() { { echo "FAIL: $*"; echo "--- updraftd log"; tail -30 "$WORK/data/updraftd.log" || true
           for f in "$WORK"/client-*/client.log; do echo "--- $f"; grep -E "level=(error|warn|info)" "$f" | tail -20; done; } >&2
         exit 1; }

# --- updraftd on a fresh store; campaigns tick every 100 ms.
mkdir -p "$WORK/data"
"$UPDRAFTD" --data "$WORK/data" --port 0 --port-file "$WORK/data/port" --tick-ms 100 \
  --poll-seconds 1 --active-poll-seconds 1 >"$WORK/data/updraftd.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$WORK/data/port" || fail "updraftd did not start"
URL=http://127.0.0.1:$(cat "$WORK/data/port")
ADMIN=$(cat "$WORK/data/admin.token")
export UPDRAFT_SERVER=$URL UPDRAFT_TOKEN_FILE="$WORK/data/admin.token"
api() { # METHOD PATH [BODY] -> body; fails on a status >= 400
  curl -sS --max-time 20 --fail-with-body -X "$1" -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$URL$2"; }
api POST /api/v1/products '{"name":"gw-test","profile":"linux","slot_size":16777216}' >/dev/null

# start_client NAME MAC: a mender daemon polling every 5 s (the issue's interval).
start_client() {
  local name=$1 mac=$2 dir="$WORK/client-$1"
  mkdir -p "$dir/etc" "$dir/identity" "$dir/data"
  cat >"$dir/etc/mender.conf" <<CONF
{"ServerURL": "$URL", "UpdatePollIntervalSeconds": 5, "InventoryPollIntervalSeconds": 5,
 "RetryPollIntervalSeconds": 1, "DeviceTypeFile": "$dir/data/device_type",
 "ModulesWorkPath": "$dir/data/modules/v3", "DBus": {"Enabled": false}}
CONF
  echo "artifact_name=release-1" >"$dir/etc/artifact_info"
  echo "device_type=gw-test" >"$dir/data/device_type"
  printf '#!/bin/sh\necho mac=%s\n' "$mac" >"$dir/identity/mender-device-identity"
  chmod +x "$dir/identity/mender-device-identity"
  timeout 240 unshare -m sh -c "mount --bind '$dir/etc' /etc/mender &&
    mount --bind '$dir/identity' /usr/share/mender/identity &&
    exec mender --config /etc/mender/mender.conf --fallback-config '$dir/none.conf' \
      --data '$dir/data' --no-syslog --log-level debug daemon" >"$dir/client.log" 2>&1 &
  PIDS+=($!)
}
auth_set() { # MAC -> the set's JSON, if any
  api GET /api/v1/mender/auth_sets | jq -c --arg mac "$1" '.auth_sets[] | select(.id_data.mac == $mac)'; }
has_status() { [[ $(auth_set "$1" | jq -r .status) == "$2" ]]; }

# --- auth: pending until accepted, then inventory.
start=$SECONDS
start_client a 02:00:00:00:00:0a
wait_for 40 has_status 02:00:00:00:00:0a pending || fail "auth: gw-a never appeared pending"
SET_A=$(auth_set 02:00:00:00:00:0a)
[[ $(jq -r .device <<<"$SET_A") == null ]] || fail "auth: a pending set has a device: $SET_A"
"$UPDRAFT" mender list --status pending | grep -q '"mac":"02:00:00:00:00:0a"' || fail "auth: the CLI does not list gw-a pending"
"$UPDRAFT" mender accept "$(jq .id <<<"$SET_A")" --product gw-test >"$WORK/accept.out" || fail "auth: accept: $(cat "$WORK/accept.out")"
DEV_A=$(auth_set 02:00:00:00:00:0a | jq -r .device)
grep -q "accepted, device $DEV_A" "$WORK/accept.out" || fail "auth: accept said $(cat "$WORK/accept.out")"
inventory_has() { api GET "/api/v1/devices/$DEV_A/inventory" |
  jq -e --arg n "$1" --arg v "$2" '.attributes[] | select(.name == $n and .value == $v)' >/dev/null; }
wait_for 40 inventory_has device_type gw-test || fail "auth: no inventory from $DEV_A"
inventory_has artifact_name release-1 || fail "auth: inventory lacks artifact_name"
echo "auth: accepted as $DEV_A, inventory in $((SECONDS - start)) s"

# make_artifact NAME -> WORK/NAME.mender installing WORK/installed/app.bin
make_artifact() {
  local dir="$WORK/artifact-$1"
  mkdir -p "$dir"
  head -c 30000 /dev/urandom >"$dir/app.bin"
  echo "$WORK/installed" >"$dir/dest_dir"
  echo app.bin >"$dir/filename"
  # Uncompressed, so the payload's bytes can be found in the file (corrupt, below).
  (cd "$dir" && mender-artifact --compression none write module-image -T single-file -n "$1" -t gw-test \
     -o "$WORK/$1.mender" -f dest_dir -f filename -f app.bin >/dev/null)
}
# release_campaign NAME VERSION DEVICE -> campaign id (started)
release_campaign() {
  local release campaign
  release=$("$UPDRAFT" release upload "$WORK/$1.mender" --version "$2" --security-counter 1 |
    sed -n 's/^release \([0-9]*\):.*/\1/p')
  [[ -n $release ]] || fail "upload of $1.mender failed"
  campaign=$(api POST /api/v1/campaigns "{\"name\":\"mender $2\",\"release\":$release,\"target\":{\"devices\":[\"$3\"]},\"phases\":[{\"percent\":100}],\"force\":true}" | jq .id)
  api POST "/api/v1/campaigns/$campaign/start" >/dev/null
  echo "$campaign"
}
deployment() { api GET "/api/v1/campaigns/$1/deployments" | jq -c '.deployments[0]'; }
state_is() { [[ $(deployment "$1" | jq -r .state) == "$2" ]]; }

# --- install
make_artifact release-2
C_OK=$(release_campaign release-2 2.0.0 "$DEV_A")
start=$SECONDS
wait_for 60 state_is "$C_OK" succeeded || fail "install: not succeeded: $(deployment "$C_OK")"
cmp -s "$WORK/installed/app.bin" "$WORK/artifact-release-2/app.bin" || fail "install: installed file differs"
wait_for 30 inventory_has artifact_name release-2 || fail "install: the client does not report release-2"
echo "install: succeeded in $((SECONDS - start)) s"

# --- corrupt: the stored artifact damaged after its checks at upload.
make_artifact release-3
C_BAD=$(release_campaign release-3 3.0.0 "$DEV_A")
SHA=$(sha256sum "$WORK/release-3.mender" | cut -d' ' -f1)
STORED="$WORK/data/artifacts/images/$SHA"
[[ -f $STORED ]] || fail "corrupt: no stored image at $STORED"
# Eight bytes in the middle of app.bin, where they sit in the stored artifact.
at=$(python3 -c 'import sys; print(open(sys.argv[1],"rb").read().find(open(sys.argv[2],"rb").read()[:64]))' \
  "$STORED" "$WORK/artifact-release-3/app.bin")
(( at > 0 )) || fail "corrupt: app.bin not found in the stored artifact"
printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of="$STORED" bs=1 seek=$((at + 15000)) conv=notrunc 2>/dev/null
start=$SECONDS
wait_for 60 state_is "$C_BAD" failed || fail "corrupt: not failed: $(deployment "$C_BAD")"
[[ $(deployment "$C_BAD" | jq -r .error) == 540 ]] || fail "corrupt: error $(deployment "$C_BAD")"
DEP_BAD=$(deployment "$C_BAD" | jq -r .id)
log_lines() { api GET "/api/v1/deployments/$DEP_BAD/log?limit=1000" | jq -r '.lines[].line'; }
has_log() { log_lines | grep -q "$1"; }
wait_for 30 has_log "invalid checksum" || fail "corrupt: the client's log is not kept: $(api GET "/api/v1/deployments/$DEP_BAD/log")"
deployment "$C_BAD" | jq -r .message | grep -q "invalid checksum" \
  || fail "corrupt: the client's error is not the deployment's message: $(deployment "$C_BAD")"
cmp -s "$WORK/installed/app.bin" "$WORK/artifact-release-2/app.bin" || fail "corrupt: the installed file changed"
echo "corrupt: failed with 540 and $(log_lines | wc -l) log lines in $((SECONDS - start)) s"

# --- rejected: accepted, then rejected; its campaign never reaches it.
start_client b 02:00:00:00:00:0b
wait_for 40 has_status 02:00:00:00:00:0b pending || fail "reject: gw-b never appeared pending"
SET_B=$(auth_set 02:00:00:00:00:0b | jq .id)
DEV_B=$(api POST "/api/v1/mender/auth_sets/$SET_B/accept" '{"product":"gw-test"}' | jq -r .device)
"$UPDRAFT" mender reject "$SET_B" | grep -q "rejected" || fail "reject: the CLI did not reject"
make_artifact release-4
C_REJ=$(release_campaign release-4 4.0.0 "$DEV_B")
sleep 12  # two of the client's polls
state=$(deployment "$C_REJ" | jq -r .state)
[[ $state == scheduled || $state == pending ]] || fail "reject: the rejected device's deployment moved: $state"
grep -q "Failed to authorize" "$WORK/client-b/client.log" || fail "reject: gw-b was not refused"
echo "reject: $DEV_B refused; its deployment stays $state"
# --- the wire, as curl sends it: a preauthorized key, chunked bodies, Mender's
# error shape, and the download link with Range, a wrong MAC and no token.
openssl genrsa -out "$WORK/c.pem" 3072 2>/dev/null
openssl rsa -in "$WORK/c.pem" -pubout -out "$WORK/c.pub" 2>/dev/null
"$UPDRAFT" mender preauthorize --id-data '{"mac":"02:00:00:00:00:0c"}' --pubkey "$WORK/c.pub" \
  --product gw-test | grep -q preauthorized || fail "wire: preauthorize"
jq -cn --arg k "$(cat "$WORK/c.pub")" '{id_data: "{\"mac\":\"02:00:00:00:00:0c\"}", pubkey: $k, tenant_token: ""}' \
  | tr -d '\n' >"$WORK/auth.json"
signed_post() { # FILE SIGNATURE -> status and body
  curl -sS --max-time 20 -w '\n%{http_code}' -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
    -H "X-MEN-Signature: $2" -H 'X-MEN-RequestID: req-1' --data-binary @"$1" \
    "$URL/api/devices/v1/authentication/auth_requests"; }
bad=$(signed_post "$WORK/auth.json" "$(echo forged | base64)")
[[ $(tail -1 <<<"$bad") == 401 ]] || fail "wire: a forged signature: $bad"
head -1 <<<"$bad" | jq -e '.error and .request_id == "req-1"' >/dev/null || fail "wire: error shape: $bad"
JWT=$(signed_post "$WORK/auth.json" "$(openssl dgst -sha256 -sign "$WORK/c.pem" "$WORK/auth.json" | base64 -w0)")
[[ $(tail -1 <<<"$JWT") == 200 ]] || fail "wire: a preauthorized key was refused: $JWT"
JWT=$(head -1 <<<"$JWT")
DEV_C=$(auth_set 02:00:00:00:00:0c | jq -r .device)
make_artifact release-5
release_campaign release-5 5.0.0 "$DEV_C" >/dev/null
next=$(curl -sS --max-time 20 -H "Authorization: Bearer $JWT" -H 'Transfer-Encoding: chunked' \
  -H 'Content-Type: application/json' --data '{"device_provides":{"device_type":"gw-test","artifact_name":"release-1"}}' \
  "$URL/api/devices/v2/deployments/device/deployments/next")
URI=$(jq -r .artifact.source.uri <<<"$next")
[[ $URI == "$URL"/api/devices/v1/deployments/download/* ]] || fail "wire: next: $next"
[[ $(curl -sS --max-time 20 -o "$WORK/part" -w '%{http_code}' -r 100-199 "$URI") == 206 ]] || fail "wire: no 206"
cmp -s "$WORK/part" <(tail -c +101 "$WORK/release-5.mender" | head -c 100) || fail "wire: the range's bytes differ"
changed=${URI%?}$([[ ${URI: -1} == 0 ]] && echo 1 || echo 0)  # the MAC's last digit, another
[[ $(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$changed") == 403 ]] || fail "wire: a changed MAC was served"
[[ $(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer ${JWT}x" \
  --data '{"status":"downloading"}' "$URL/api/devices/v1/deployments/device/deployments/$(jq -r .id <<<"$next")/status") == 401 ]] \
  || fail "wire: a changed token was taken"
echo "wire: chunked bodies, 401 with request_id, 206 ranges, 403 for a changed link"
echo "PASS"
