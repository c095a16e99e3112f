#!/usr/bin/env bash
# The shipped systemd units (packaging/systemd/updraft-agent.service and
# updraft-agent-confirm.service) pass
# `systemd-analyze verify` with the built agent standing in for /usr/bin's, with
# no warning at all (systemd only warns on a bad value), and the --config file the
# unit names is one the agent reads.
# Usage: systemd_unit_test.sh UPDRAFT_AGENT. Exit 0 pass, 1 fail, 77 skip (no
# systemd-analyze or grub-editenv).
set -euo pipefail
agent=$1
unit=$(dirname "$0")/../../packaging/systemd/updraft-agent.service
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (package systemd)"; exit 77
fi
if ! command -v grub-editenv >/dev/null; then
  echo "SKIP: grub-editenv is not installed (package grub-common)"; exit 77
fi
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
confirm_unit=$(dirname "$0")/../../packaging/systemd/updraft-agent-confirm.service
sed "s|/usr/bin/updraft-agent|$agent|" "$unit" > "$dir/updraft-agent.service"
sed "s|/usr/bin/updraft-agent|$agent|" "$confirm_unit" > "$dir/updraft-agent-confirm.service"
for u in updraft-agent.service updraft-agent-confirm.service; do
  if ! out=$(systemd-analyze verify "$dir/$u" 2>&1) || [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify $u:"; echo "$out"; exit 1
  fi
done
grep -q '^ExecStart=/usr/bin/updraft-agent confirm --config /etc/updraft/agent.conf$' "$confirm_unit" ||
  { echo "FAIL: the confirm unit's ExecStart is not the documented command"; exit 1; }
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
# confirm takes the same file (run's options in it are left alone) and reads the
# boot loader it names: a real grubenv, and a kernel command line naming slot B.
grub-editenv "$dir/grubenv" create
grub-editenv "$dir/grubenv" set updraft_active=A updraft_trial=B updraft_tries=0
echo "root=/dev/vdc updraft.slot=B" > "$dir/cmdline"
printf 'bootloader = grub\ngrub-env = %s/grubenv\ncmdline = %s/cmdline\n' "$dir" "$dir" >> "$dir/agent.conf"
"$agent" confirm --config "$dir/agent.conf" > "$dir/out" 2>&1 ||
  { echo "FAIL: confirm with the unit's config:"; cat "$dir/out"; exit 1; }
grep -qx 'updraft_active=B' <(grub-editenv "$dir/grubenv" list) &&
  grep -qx 'updraft_trial=' <(grub-editenv "$dir/grubenv" list) ||
  { echo "FAIL: confirm left"; grub-editenv "$dir/grubenv" list; exit 1; }
echo "PASS: the units verify and the agent reads their config (run and confirm)"
