#!/usr/bin/env bash
# The real libcoap client (coap-client-openssl, Debian's libcoap3-bin) against
# updraftd's CoAP device API over DTLS with a pre-shared key (docs/formats/coap.md):
# it checks in with a binary payload made by printf, reads the artifact reference
# from the binary answer, fetches the artifact in 64-byte blocks (-b 64), and must
# get exactly the released image. The client ignores option 65004 (the block CRC),
# as an elective option it does not know.
# Usage: coap_client_test.sh UPDRAFTD (KEEP=1 keeps the work folder). Exit 0 pass, 1 fail,
# 77 skip (no coap-client-openssl).
set -euo pipefail
updraftd=$1
source "$(dirname "$0")/lib.sh"
client=${COAP_CLIENT:-coap-client-openssl}
if ! command -v "$client" >/dev/null; then
  echo "SKIP: $client not installed (Debian package libcoap3-bin; scripts/setup.sh installs it)"
  exit 77
fi
need_tools curl sha256sum od cmp

dir=$(mktemp -d /tmp/updraft-coap-client-XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "coap_client_test: FAILED: $*" >&2
  echo "--- updraftd.log" >&2
  tail -30 "$dir/updraftd.log" >&2 || true
  exit 1
}

"$updraftd" --data "$dir" --port 0 --port-file "$dir/port" --tick-ms 100 \
  --coaps-listen 127.0.0.1:0 >"$dir/updraftd.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  grep -q "CoAP on coaps://" "$dir/updraftd.log" 2>/dev/null && [ -s "$dir/port" ] && break
  sleep 0.1
done
port=$(cat "$dir/port")
coaps=$(sed -n 's|.*CoAP on coaps://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/updraftd.log")
[ -n "$coaps" ] || fail "updraftd did not open the CoAP port"
admin=$(cat "$dir/admin.token")
api() { # METHOD PATH [BODY] -> body; fails on a status >= 400
  curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "http://127.0.0.1:$port$2"; }

device=meter-1
secret=secret-of-meter-1-0123456789
# The PSK: the 64 hex characters of SHA-256(secret), as text.
key=$(printf %s "$secret" | sha256sum | cut -d' ' -f1)
api POST /api/v1/products '{"name":"meter","profile":"mcu-tiny"}' >/dev/null
api POST /api/v1/devices \
  "{\"id\":\"$device\",\"product\":\"meter\",\"hardware\":\"board-a\",\"secret\":\"$secret\"}" >/dev/null
head -c 30000 /dev/urandom >"$dir/v2.bin"
release=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $admin" \
  --data-binary "@$dir/v2.bin" \
  "http://127.0.0.1:$port/api/v1/releases?product=meter&version=2.0.0&security_counter=1&hardware=board-a" |
  sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1)
[ -n "$release" ] || fail "release upload"
campaign=$(api POST /api/v1/campaigns \
  "{\"name\":\"coap\",\"release\":$release,\"phases\":[{\"percent\":100}]}" |
  sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1)
api POST "/api/v1/campaigns/$campaign/start" >/dev/null

# The check-in (docs/formats/coap.md): format 1, id, nonce, slot 0, battery
# unknown, NB-IoT, no known image, version 1.0.0, no MAC (the DTLS session names
# the device).
{
  printf '\001\007%s' "$device"
  printf '\001\002\003\004\005\006\007\010\000\377\004'
  head -c 32 /dev/zero
  printf '\0051.0.0\000'
} >"$dir/checkin.bin"
coap() { "$client" -B 30 -u "$device" -k "$key" "$@"; }

# The answer's bytes in decimal: [1] flags, [6] kind, [7..10] size, [11] reference
# length, then the reference.
for _ in $(seq 100); do
  rm -f "$dir/answer.bin"
  coap -m post -f "$dir/checkin.bin" -o "$dir/answer.bin" "coaps://127.0.0.1:$coaps/c" ||
    fail "check-in"
  read -r -a answer <<<"$(od -An -tu1 -v "$dir/answer.bin" | tr '\n' ' ')"
  [ "${answer[0]:-}" = 1 ] || fail "check-in answer: ${answer[*]:-nothing}"
  (( answer[1] & 1 )) && break
  sleep 0.2
done
(( answer[1] & 1 )) || fail "no update offered"
size=$(( answer[7] + (answer[8] << 8) + (answer[9] << 16) + (answer[10] << 24) ))
ref=""
for (( i = 12; i < 12 + answer[11]; i++ )); do ref+=$(( answer[i] - 48 )); done
[ "${answer[6]}" = 1 ] && [ "$size" = 30000 ] || fail "offer: kind ${answer[6]}, size $size"

# Block by block, 64 bytes each: 469 requests; -v 7 logs every message.
coap -m get -b 64 -v 7 -o "$dir/artifact.bin" "coaps://127.0.0.1:$coaps/a/$ref" \
  >"$dir/client.log" 2>&1 || fail "fetch /a/$ref"
cmp "$dir/artifact.bin" "$dir/v2.bin" || fail "coap-client received other bytes"
# The blocks answered, as the client logged them: "t:ACK c:2.05 ... [ Block2:N/M/64,
# 65004:... ]" (the last one twice: once more as the whole body handed to the app).
blocks=$(grep -o 't:ACK c:2.05 .*Block2:[0-9]*/[M_]/64, 65004:' "$dir/client.log" |
  grep -o 'Block2:[0-9]*' | sort -u | wc -l)
[ "$blocks" = 469 ] || fail "expected 469 answers of 64-byte blocks with the CRC option, saw $blocks"
echo "coap_client_test: coap-client fetched $size bytes over coaps in $blocks blocks of 64 bytes"
