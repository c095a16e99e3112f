#!/usr/bin/env bash
# One fleet on two nodes, and the scheduler's leader dies mid-campaign
# (docs/design.md, "Deploying at scale"). scripts/cluster.sh starts a private
# PostgreSQL, two updraftd and nginx on loopback; updraft-sim runs 500 devices
# through nginx in a three-phase campaign. Once the second phase is under way the
# node leading the scheduler is killed with SIGKILL. Then:
#   - the other node takes the lead and the campaign completes;
#   - every report a node acknowledged is in the store (the simulator's last
#     acknowledged report of each device against its deployment's row);
#   - no device has two deployments in the campaign;
#   - the delta was built exactly once (one "built" line over both nodes' logs).
# Usage: cluster_fleet_test.sh UPDRAFTD UPDRAFT_SIM. Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
updraftd=$1
sim=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! { command -v pg_config >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } ||
   ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
  echo "SKIP: PostgreSQL or nginx not installed (scripts/setup.sh installs them)"
  exit 77
fi
work=$(mktemp -d /tmp/updraft-cluster-fleet-XXXXXX)
out=$work/cluster.out
fail() {
  echo "cluster_fleet_test: FAILED: $*" >&2
  cat "$out" >&2
  for log in "${dir:-/nonexistent}"/node-*/updraftd.log; do
    [ -f "$log" ] && { echo "--- $log (last 30 lines)" >&2; tail -30 "$log" >&2; }
  done
  exit 1
}
# Short ticks and polls: the campaign runs in seconds, not hours.
UPDRAFTD="$updraftd" UPDRAFTD_ARGS="--tick-ms 200 --poll-seconds 2 --active-poll-seconds 1" \
  setsid bash "$root/scripts/cluster.sh" 2 >"$out" 2>&1 &
script=$!
cleanup() {
  kill -INT -- -$script 2>/dev/null || true
  for _ in $(seq 100); do kill -0 $script 2>/dev/null || break; sleep 0.1; done
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 300); do grep -q "Ctrl-C stops it" "$out" && break; sleep 0.1; done
grep -q "Ctrl-C stops it" "$out" || fail "the cluster did not come up"
url=$(grep -o "behind nginx at http://127.0.0.1:[0-9]*" "$out" | grep -o "http.*")
dir=$(grep -o "admin token in /tmp/updraft-cluster-[A-Za-z0-9]*" "$out" | grep -o "/tmp/.*")
store=$(grep -o "PostgreSQL on postgresql://[^ ]*" "$out" | grep -o "postgresql://.*")
token=$(cat "$dir/data/admin.token")
psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)
sql() { "$psql_bin" -qAt "$store" -c "$1"; }
api() {  # METHOD PATH [curl args...]
  local method=$1 path=$2
  shift 2
  curl -fsS -X "$method" -H "Authorization: Bearer $token" "$@" "$url$path"
}

# Two releases of a 16 KiB image: v2 is v1 with scattered edits, so a delta pays.
python3 - "$work" <<'PY'
import random, sys
rng = random.Random(5)
v1 = bytes(rng.choice(b"\x00\x10\x20\x30\xff\x48\x70\x47") for _ in range(16384))
v2 = bytearray(v1)
for _ in range(40):
    v2[rng.randrange(len(v2))] ^= 0x5A
open(sys.argv[1] + "/v1.bin", "wb").write(v1)
open(sys.argv[1] + "/v2.bin", "wb").write(bytes(v2))
PY
api POST /api/v1/products -H "Content-Type: application/json" \
  -d '{"name":"meter","profile":"mcu-tiny"}' >/dev/null || fail "create the product"
api POST "/api/v1/releases?product=meter&version=1.0.0&security_counter=1&hardware=sim-board" \
  --data-binary "@$work/v1.bin" >/dev/null || fail "upload v1"
target=$(api POST "/api/v1/releases?product=meter&version=2.0.0&security_counter=2&hardware=sim-board" \
  --data-binary "@$work/v2.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
  fail "upload v2"
sim_args=("$sim" --server "${url#http://}" --token-file "$dir/data/admin.token" --product meter
  --image "$work/v1.bin" --version 1.0.0 --target-version 2.0.0 -n 500 --threads 4 -q)
timeout 120 "${sim_args[@]}" --max-rounds 2 >/dev/null || fail "the devices did not register"

campaign=$(api POST /api/v1/campaigns -H "Content-Type: application/json" \
  -d "{\"name\":\"fleet\",\"release\":$target,\"phases\":[{\"percent\":10},{\"percent\":50},{\"percent\":100}],\"success_threshold\":0.9}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "create the campaign"
api POST "/api/v1/campaigns/$campaign/start" >/dev/null || fail "start the campaign"
timeout 300 "${sim_args[@]}" --campaign "$campaign" --json "$work/outcome.json" >"$work/sim.out" 2>&1 &
fleet=$!

# Once the second phase has devices updated, the leader dies.
killed=""
for _ in $(seq 600); do
  second=$(api GET "/api/v1/campaigns/$campaign" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["phase_progress"][1]["succeeded"])')
  if [ "$second" -gt 0 ]; then
    leader=$(grep -l "scheduler: leading" "$dir"/node-*/updraftd.log | head -1)
    n=$(basename "$(dirname "$leader")" | cut -d- -f2)
    pid=$(grep -o "node $n pid [0-9]*" "$out" | awk '{print $4}')
    kill -9 "$pid"
    killed=$n
    echo "cluster_fleet_test: killed node $n (pid $pid), the scheduler's leader, with phase 2 at $second updated"
    break
  fi
  kill -0 $fleet 2>/dev/null || break
  sleep 0.2
done
[ -n "$killed" ] || fail "the campaign never reached its second phase"
survivor=$((3 - killed))
wait $fleet || fail "updraft-sim failed: $(cat "$work/sim.out")"

grep -q "scheduler: leading" "$dir/node-$survivor/updraftd.log" || fail "node $survivor never took the lead"
# The simulator stops when every device runs v2; the survivor completes the
# campaign at one of its next ticks.
for _ in $(seq 100); do
  state=$(api GET "/api/v1/campaigns/$campaign" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  [ "$state" = running ] || break
  sleep 0.2
done
[ "$state" = completed ] || fail "campaign is $state, not completed: $(cat "$work/sim.out")"

sql "SELECT device_id, state, error FROM deployments WHERE campaign_id = $campaign" >"$work/store.txt"
doubles=$(sql "SELECT count(*) FROM (SELECT device_id FROM deployments WHERE campaign_id = $campaign
               GROUP BY device_id HAVING count(*) > 1) AS d")
[ "$doubles" = 0 ] || fail "$doubles devices have two deployments in the campaign"
builds=$(cat "$dir"/node-*/updraftd.log | grep -c "delta .* built:" || true)
[ "$builds" = 1 ] || fail "the delta was built $builds times, not once"

python3 - "$work/outcome.json" "$work/store.txt" <<'PY' || fail "acknowledged reports are missing from the store"
import json, sys
# What the server stores for a report's phase (UpdateService's state_for_phase);
# a failure may be stored as downloading or deferred when its error is one the
# agent retries by itself.
states = {"downloading": {3}, "verifying": {4}, "installing": {4}, "rebooting": {5},
          "success": {6}, "failure": {3, 7, 10}, "rolled_back": {8}, "deferred": {10}}
outcome = json.load(open(sys.argv[1]))
store = {}
for line in open(sys.argv[2]):
    device, state, error = line.strip().split("|")
    store[device] = (int(state), int(error))
acked = lost = 0
for d in outcome["outcomes"]:
    if d["acked_reports"] == 0:
        continue
    acked += d["acked_reports"]
    row = store.get(d["id"])
    # A device whose success report was lost (sent to the node that was
    # killed) says so at its next check-in, running the new image: the row
    # then holds success, a state after the last one acknowledged.
    confirmed = row == (6, 0) and d["version"] == "2.0.0"
    if row is None or not confirmed and (row[0] not in states[d["acked_phase"]] or
                                         row[1] != d["acked_error"]):
        lost += 1
        print(f"{d['id']}: acknowledged {d['acked_phase']} (error {d['acked_error']}), store has {row}")
updated = sum(1 for d in outcome["outcomes"] if d["version"] == "2.0.0")
print(f"cluster_fleet_test: {acked} acknowledged reports from {len(outcome['outcomes'])} devices, "
      f"{updated} updated, {lost} devices whose last acknowledged report is not in the store")
sys.exit(1 if lost or updated < 450 else 0)
PY
echo "cluster_fleet_test: PASS"
