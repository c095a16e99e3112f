#!/usr/bin/env bash
# scripts/cluster.sh as a user runs it: two updraftd on one private PostgreSQL
# behind nginx. Through nginx's URL: the API answers, one node leads the scheduler
# and the other stands by, a product created through one node is listed by both;
# Ctrl-C (SIGINT) stops every process and removes the temp dir.
# Usage: cluster_script_test.sh UPDRAFTD. Exit 0 pass, 1 fail, 77 skip (no PostgreSQL or nginx).
set -euo pipefail
updraftd=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! { command -v pg_config >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } ||
   ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
  echo "SKIP: PostgreSQL or nginx not installed (scripts/setup.sh installs them)"
  exit 77
fi
out=$(mktemp /tmp/updraft-cluster-test-XXXXXX)
fail() { echo "cluster_script_test: FAILED: $*" >&2; cat "$out" >&2; exit 1; }
UPDRAFTD="$updraftd" setsid bash "$root/scripts/cluster.sh" 2 >"$out" 2>&1 &
script=$!
trap 'kill -INT -- -$script 2>/dev/null || true; rm -f "$out"' EXIT
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
kill -INT -- -$script
for _ in $(seq 100); do kill -0 $script 2>/dev/null || break; sleep 0.1; done
! kill -0 $script 2>/dev/null || fail "the script did not stop on Ctrl-C"
[ ! -e "$dir" ] || fail "the temp dir $dir is left behind"
! pgrep -f "$dir" >/dev/null || fail "processes of the cluster are left running"
echo "cluster_script_test: PASS"
