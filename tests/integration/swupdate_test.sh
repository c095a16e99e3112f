#!/usr/bin/env bash
# The real SWUpdate client (Debian's swupdate, suricatta in hawkBit mode) against
# updraftd's DDI endpoints on loopback (docs/api/ddi.md). Three cases:
#   install  - a signed .swu (CMS, as Debian builds SWUpdate) installs a file into a
#              temp dir; after a "reboot" (restart with -c 2) the deployment succeeds;
#   cancel   - the campaign is aborted before the device polls: SWUpdate acknowledges
#              the cancelAction and the server stops offering it;
#   corrupt  - payload bytes flipped after signing: SWUpdate refuses the image,
#              reports failure, the deployment fails with error 540; nothing installed.
# Usage: swupdate_test.sh UPDRAFTD. Exit 0 pass, 1 fail, 77 skip (no swupdate).
# Every wait is bounded; every process started here is stopped at exit.
set -euo pipefail
UPDRAFTD=$1
source "$(dirname "$0")/lib.sh"
SWUPDATE=${SWUPDATE:-/usr/bin/swupdate}
if [[ ! -x $SWUPDATE ]]; then
  echo "SKIP: $SWUPDATE not installed (Debian package swupdate; scripts/setup.sh installs it)"
  exit 77
fi
need_tools cpio openssl curl jq

start_work swupdate
fail() { echo "FAIL: $*"; echo "--- updraftd log"; tail -30 "$WORK/data/updraftd.log" || true
         for f in "$WORK"/swupdate-*.log; do echo "--- $f"; grep -v TRACE "$f" | tail -25; done; exit 1; }
# Polls `cmd` every 0.2 s until it succeeds, at most $1 seconds.

# --- updraftd on a fresh store; polls every second so the test runs in seconds.
mkdir -p "$WORK/data"
"$UPDRAFTD" --data "$WORK/data" --port 0 --port-file "$WORK/data/port" --tick-ms 100 \
  --poll-seconds 1 --active-poll-seconds 1 >"$WORK/data/updraftd.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$WORK/data/port" || fail "updraftd did not start"
PORT=$(cat "$WORK/data/port")
URL=http://127.0.0.1:$PORT
ADMIN=$(cat "$WORK/data/admin.token")
api() { # METHOD PATH [BODY] -> body; fails on a status >= 400
  curl -sS --max-time 20 --fail-with-body -X "$1" -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$URL$2"; }

api POST /api/v1/products '{"name":"gw","profile":"linux","slot_size":16777216}' >/dev/null
api PUT /api/v1/products/gw/ddi '{"auto_register":false,"hardware":"rev-a"}' >/dev/null
for dev in gw-ok gw-cancel gw-corrupt; do
  api POST /api/v1/devices "{\"id\":\"$dev\",\"product\":\"gw\",\"hardware\":\"rev-a\",\"secret\":\"secret-of-$dev-0123456789\"}" >/dev/null
done

# --- signing keys and .swu images. Debian builds SWUpdate with CMS signatures:
# -k takes the signer's certificate (emailProtection purpose by default).
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
  -subj "/CN=updraft-test" -addext "keyUsage=digitalSignature" \
  -addext "extendedKeyUsage=emailProtection" 2>/dev/null
# make_swu NAME VERSION TARGET_PATH [corrupt]: sw-description, its signature and
# the payload, in that order, as a cpio "crc" (newc + checksum) archive.
make_swu() {
  local name=$1 version=$2 target=$3 dir="$WORK/swu-$1"
  mkdir -p "$dir"
  head -c 20000 /dev/urandom > "$dir/payload.bin"
  cp "$dir/payload.bin" "$WORK/expected-$name.bin"
  cat > "$dir/sw-description" <<SW
software =
{
	version = "$version";
	description = "updraft swupdate test $name";
	hardware-compatibility: [ "1.0" ];
	files: (
		{
			filename = "payload.bin";
			path = "$target";
			sha256 = "$(sha256sum "$dir/payload.bin" | cut -d' ' -f1)";
		}
	);
}
SW
  openssl cms -sign -in "$dir/sw-description" -out "$dir/sw-description.sig" -signer cert.pem \
    -inkey key.pem -outform DER -nosmimecap -binary
  if [[ ${4:-} == corrupt ]]; then  # after signing: the signature still holds, the hash not
    printf '\xff\xff\xff\xff' | dd of="$dir/payload.bin" bs=1 seek=1000 conv=notrunc 2>/dev/null
  fi
  (cd "$dir" && printf 'sw-description\nsw-description.sig\npayload.bin\n' | cpio -o -H crc 2>/dev/null) > "$WORK/$name.swu"
}
# release_campaign SWU VERSION DEVICE -> campaign id (started)
release_campaign() {
  local release campaign
  release=$(curl -sS --max-time 20 --fail-with-body -X POST -H "Authorization: Bearer $ADMIN" --data-binary @"$1" \
    "$URL/api/v1/releases?product=gw&version=$2&security_counter=1&hardware=rev-a" | jq .id)
  campaign=$(api POST /api/v1/campaigns "{\"name\":\"ddi $2\",\"release\":$release,\"target\":{\"devices\":[\"$3\"]},\"phases\":[{\"percent\":100}],\"force\":true}" | jq .id)
  api POST "/api/v1/campaigns/$campaign/start" >/dev/null
  echo "$campaign"
}
deployment() { # CAMPAIGN -> the only deployment's JSON
  api GET "/api/v1/campaigns/$1/deployments" | jq -c '.deployments[0]'; }
state_is() { [[ $(deployment "$1" | jq -r .state) == "$2" ]]; }
# run_swupdate NAME DEVICE [extra suricatta args]: in the background, bounded.
run_swupdate() {
  local name=$1 dev=$2; shift 2
  # TMPDIR: SWUpdate's control sockets and scratch files stay in this run's
  # directory, so parallel runs (release and asan test suites) do not meet.
  TMPDIR="$WORK" timeout 60 "$SWUPDATE" -v -H updraft:1.0 -k "$WORK/cert.pem" \
    -u "-t gw -u $URL -i $dev -k secret-of-$dev-0123456789 -p 1 -r 1 -w 1 $*" \
    >"$WORK/swupdate-$name.log" 2>&1 &
  SW_PID=$!
  PIDS+=($SW_PID)
}
stop_swupdate() { kill "$SW_PID" 2>/dev/null || true; wait "$SW_PID" 2>/dev/null || true; }
# A server that stops answering fails the test with its log (curl's --max-time),
# never hangs it until CTest's timeout.

# --- install
make_swu ok 2.0.0 "$WORK/installed-ok.bin"
C_OK=$(release_campaign "$WORK/ok.swu" 2.0.0 gw-ok)
start=$SECONDS
run_swupdate ok gw-ok
chunks_installed() { deployment "$C_OK" | jq -r .message | grep -q "All Chunks Installed"; }
wait_for 40 chunks_installed \
  || fail "install: SWUpdate did not report the chunks installed: $(deployment "$C_OK")"
cmp -s "$WORK/installed-ok.bin" "$WORK/expected-ok.bin" || fail "install: installed file differs"
stop_swupdate
# The "reboot": SWUpdate started again, told the new image runs (-c 2), closes the action.
run_swupdate ok-confirm gw-ok -c 2
wait_for 30 state_is "$C_OK" succeeded || fail "install: not succeeded: $(deployment "$C_OK")"
stop_swupdate
echo "install: succeeded in $((SECONDS - start)) s"

# --- cancel
make_swu cancel 2.1.0 "$WORK/installed-cancel.bin"
C_CANCEL=$(release_campaign "$WORK/cancel.swu" 2.1.0 gw-cancel)
api POST "/api/v1/campaigns/$C_CANCEL/abort" >/dev/null
start=$SECONDS
run_swupdate cancel gw-cancel
ack() { api GET "/api/v1/audit?limit=50" | jq -e '.events[] | select(.action=="deployment.ddi_cancel_feedback")' >/dev/null; }
wait_for 30 ack || fail "cancel: SWUpdate did not acknowledge the cancel"
stop_swupdate
state_is "$C_CANCEL" canceled || fail "cancel: state $(deployment "$C_CANCEL")"
[[ ! -e $WORK/installed-cancel.bin ]] || fail "cancel: the canceled image was installed"
echo "cancel: acknowledged in $((SECONDS - start)) s"

# --- corrupt
make_swu corrupt 2.2.0 "$WORK/installed-corrupt.bin" corrupt
C_BAD=$(release_campaign "$WORK/corrupt.swu" 2.2.0 gw-corrupt)
start=$SECONDS
run_swupdate corrupt gw-corrupt
wait_for 40 state_is "$C_BAD" failed || fail "corrupt: not failed: $(deployment "$C_BAD")"
stop_swupdate
[[ $(deployment "$C_BAD" | jq -r .error) == 540 ]] || fail "corrupt: error $(deployment "$C_BAD")"
# SWUpdate's own reason reaches the deployment (console) as the feedback details.
deployment "$C_BAD" | jq -r .message | grep -q "HASH mismatch" \
  || fail "corrupt: SWUpdate's details are not in the deployment: $(deployment "$C_BAD")"
[[ ! -e $WORK/installed-corrupt.bin ]] || fail "corrupt: a corrupted image was installed"
echo "corrupt: failed with 540 in $((SECONDS - start)) s"
echo "PASS"
