#!/usr/bin/env bash
# scripts/cluster.sh as a user runs it: two updraftd on one private PostgreSQL
# behind nginx. Through nginx's URL: the API answers, one node leads the scheduler
# and the other stands by, a product created through one node is listed by both,
# a console's event ticket from node 1 opens the stream on node 2 and that stream
# carries a campaign created through node 1 (LISTEN/NOTIFY); Ctrl-C (SIGINT)
# stops every process and removes the temp dir.
# Usage: cluster_script_test.sh UPDRAFTD. Exit 0 pass, 1 fail, 77 skip (no PostgreSQL or nginx).
set -euo pipefail
updraftd=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! { command -v pg_config >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } ||
   ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
  echo "SKIP: PostgreSQL or nginx not installed (scripts/setup.sh installs them)"
  exit 77
fi
work=$(mktemp -d /tmp/updraft-cluster-test-XXXXXX)
out=$work/cluster.out
fail() { echo "cluster_script_test: FAILED: $*" >&2; cat "$out" >&2; exit 1; }
UPDRAFTD="$updraftd" setsid bash "$root/scripts/cluster.sh" 2 >"$out" 2>&1 &
script=$!
trap 'kill -INT -- -$script 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 300); do grep -q "Ctrl-C stops it" "$out" && break; sleep 0.1; done
grep -q "Ctrl-C stops it" "$out" || fail "the cluster did not come up"
url=$(grep -o "behind nginx at http://127.0.0.1:[0-9]*" "$out" | grep -o "http.*")
dir=$(grep -o "admin token in /tmp/updraft-cluster-[A-Za-z0-9]*" "$out" | grep -o "/tmp/.*")
token=$(cat "$dir/data/admin.token")
for node in 1 2; do
  for _ in $(seq 50); do grep -q "campaign scheduler" "$dir/node-$node/updraftd.log" && break; sleep 0.1; done
done
[ "$(cat "$dir"/node-*/updraftd.log | grep -c 'scheduler: leading')" = 1 ] || fail "not exactly one leader"
[ "$(cat "$dir"/node-*/updraftd.log | grep -c 'standing by')" = 1 ] || fail "no node standing by"
curl -fsS -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  -d '{"name":"meter","profile":"mcu-tiny"}' "$url/api/v1/products" >/dev/null || fail "create a product"
# nginx balances round robin: four lists reach both nodes.
for _ in 1 2 3 4; do
  curl -fsS -H "Authorization: Bearer $token" "$url/api/v1/products" | grep -q '"meter"' ||
    fail "a node does not list the product"
done
# Live events cross nodes: a console's ticket from node 1 opens the stream on
# node 2, and a campaign created through node 1 shows up in it.
node1=http://$(grep -o "node 1 pid [0-9]* on 127.0.0.1:[0-9]*" "$out" | awk '{print $6}')
node2=http://$(grep -o "node 2 pid [0-9]* on 127.0.0.1:[0-9]*" "$out" | awk '{print $6}')
ticket=$(curl -fsS -X POST -H "Authorization: Bearer $token" "$node1/api/v1/events/ticket" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["ticket"])') || fail "a ticket from node 1"
events=$work/events
curl -sS -v -N --max-time 20 "$node2/api/v1/events?ticket=$ticket" >"$events" 2>&1 &
stream=$!
head -c 4096 /dev/urandom >"$events.bin"
release=$(curl -fsS -H "Authorization: Bearer $token" --data-binary "@$events.bin" \
  "$node1/api/v1/releases?product=meter&version=1.0.0&security_counter=1&hardware=board" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "upload a release"
for _ in $(seq 50); do grep -q "text/event-stream" "$events" && break; sleep 0.1; done
grep -q "text/event-stream" "$events" || fail "node 2 did not open the stream: $(cat "$events")"
sleep 0.5  # the stream subscribes right after its headers
campaign=$(curl -fsS -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  -d "{\"name\":\"everywhere\",\"release\":$release,\"phases\":[{\"percent\":100}]}" \
  "$node1/api/v1/campaigns" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
  fail "create a campaign"
seen="\"id\":$campaign,\"pause_reason\":\"\",\"state\":\"draft\""
for _ in $(seq 100); do grep -qF "$seen" "$events" && break; sleep 0.1; done
kill $stream 2>/dev/null || true
grep -q "event: campaign" "$events" && grep -qF "$seen" "$events" ||
  fail "node 2's event stream did not carry node 1's campaign: $(cat "$events")"

kill -INT -- -$script
for _ in $(seq 100); do kill -0 $script 2>/dev/null || break; sleep 0.1; done
! kill -0 $script 2>/dev/null || fail "the script did not stop on Ctrl-C"
[ ! -e "$dir" ] || fail "the temp dir $dir is left behind"
! pgrep -f "$dir" >/dev/null || fail "processes of the cluster are left running"
echo "cluster_script_test: PASS"
