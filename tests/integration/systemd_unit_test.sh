#!/usr/bin/env bash
# The shipped systemd unit (packaging/systemd/updraft-agent.service) passes
# `systemd-analyze verify` with the built agent standing in for /usr/bin's, with
# no warning at all (systemd only warns on a bad value), and the --config file the
# unit names is one the agent reads.
# Usage: systemd_unit_test.sh UPDRAFT_AGENT. Exit 0 pass, 1 fail, 77 skip (no systemd-analyze).
set -euo pipefail
agent=$1
unit=$(dirname "$0")/../../packaging/systemd/updraft-agent.service
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (package systemd)"; exit 77
fi
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
sed "s|/usr/bin/updraft-agent|$agent|" "$unit" > "$dir/updraft-agent.service"
if ! out=$(systemd-analyze verify "$dir/updraft-agent.service" 2>&1) || [ -n "$out" ]; then
  echo "FAIL: systemd-analyze verify:"; echo "$out"; exit 1
fi
grep -q '^ExecStart=/usr/bin/updraft-agent run --config /etc/updraft/agent.conf$' "$unit" ||
  { echo "FAIL: ExecStart is not the documented command"; exit 1; }
grep -q '^RestartForceExitStatus=75$' "$unit" ||
  { echo "FAIL: exit 75 (re-exec failed) does not restart the agent"; exit 1; }
# The agent takes the config path the unit gives it: a config naming a missing
# slot fails on the slot, not on the file or its format.
printf 'slot-a = %s/none-a\nslot-b = %s/none-b\nstate = %s/state\nserver = http://127.0.0.1:1\ninsecure = true\ndevice-id = d\nsecret = s\nroot = %s/root\nproduct = p\nhardware = h\n' \
  "$dir" "$dir" "$dir" "$dir" > "$dir/agent.conf"
: > "$dir/root"
status=0; "$agent" run --config "$dir/agent.conf" --once > "$dir/out" 2>&1 || status=$?
if [ "$status" -ne 1 ] || ! grep -q "slots:" "$dir/out"; then
  echo "FAIL: the agent with the unit's kind of config exited $status:"; cat "$dir/out"; exit 1
fi
echo "PASS: the unit verifies and the agent reads its config"
