#!/usr/bin/env bash
# The shipped U-Boot slot choice (packaging/u-boot/updraft-ab.cmd) run by Debian's
# real U-Boot (u-boot-qemu, ARM "virt" machine in QEMU), on an environment in the
# machine's flash written by fw_setenv (libubootenv-tool) and by
# `updraft-agent confirm --bootloader u-boot`: U-Boot must read what the agent's
# tools write, and the script must choose as docs/agent-linux.md says.
#
# Not shown here: the try the script takes being saved. QEMU 7.2's emulated NOR
# flash fails U-Boot's buffered writes ("pflash_write: Write to buffer emulation
# is flawed"), so saveenv fails on this machine; the script's count and choice are
# checked in its output instead. The GRUB script's counting is shown across real
# reboots by real_reboot_test.sh.
# Usage: uboot_script_test.sh UPDRAFT_AGENT. Exit 0 pass, 1 fail, 77 skip (no
# qemu-system-arm, u-boot-qemu, u-boot-tools or libubootenv-tool).
set -euo pipefail
AGENT=$1
here=$(cd "$(dirname "$0")" && pwd)
uboot=/usr/lib/u-boot/qemu_arm/u-boot.bin
skip() { echo "SKIP: $*"; exit 77; }
command -v qemu-system-arm >/dev/null || skip "qemu-system-arm is not installed"
[[ -f $uboot ]] || skip "$uboot is missing (u-boot-qemu)"
command -v mkimage >/dev/null || skip "mkimage is not installed (u-boot-tools)"
command -v fw_setenv >/dev/null || skip "fw_setenv is not installed (libubootenv-tool)"

WORK=$(mktemp -d /tmp/updraft-uboot-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; echo "--- last U-Boot output"; tail -20 "$WORK/console.log" || true; exit 1; }
mkimage -A arm -T script -C none -d "$here/../../packaging/u-boot/updraft-ab.cmd" "$WORK/ab.scr" \
  > /dev/null || fail "mkimage rejected the script"
# The virt machine's second flash bank holds U-Boot's environment: 256 KiB at its
# start (qemu_arm_defconfig). bootcmd sources the script QEMU puts in RAM.
echo "$WORK/flash1.img 0x0 0x40000 0x40000" > "$WORK/fw_env.config"
# A fresh environment holding the boot command and VAR=VALUE...: each case starts
# from one, since the failed saveenv of the case before leaves a bad CRC.
fresh_env() {
  rm -f "$WORK/flash1.img"; truncate -s 64M "$WORK/flash1.img"
  printf '%s\n' bootdelay=0 'bootcmd=source 0x41000000' "$@" > "$WORK/default.env"
  fw_setenv -c "$WORK/fw_env.config" -f "$WORK/default.env" bootdelay 0 2>/dev/null ||
    fail "fw_setenv could not write the environment"
}

# Boots U-Boot once and prints the script's line.
boot() {
  # Emptied here, not by the background job's redirection, which may come after
  # the first look below and leave the last boot's line to be read.
  : > "$WORK/console.log"
  timeout 60 qemu-system-arm -M virt -nographic -monitor none -bios "$uboot" \
    -drive "if=pflash,format=raw,index=1,file=$WORK/flash1.img" \
    -device "loader,file=$WORK/ab.scr,addr=0x41000000,force-raw=on" -nic none \
    >> "$WORK/console.log" 2>&1 &
  local pid=$! end=$((SECONDS + 60))
  until grep -aq 'updraft: booting slot' "$WORK/console.log"; do
    (( SECONDS < end )) && kill -0 $pid 2>/dev/null || { kill $pid 2>/dev/null; fail "no choice printed"; }
    sleep 0.2
  done
  kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
  grep -ao 'updraft: booting slot.*' "$WORK/console.log" | tr -d '\r'
}
expect() { # WHAT EXPECTED_LINE
  local line; line=$(boot)
  [[ $line == "$2" ]] || fail "$1: U-Boot said \"$line\", expected \"$2\""
  echo "ok: $1: $line"
}

fresh_env updraft_active=A
expect "factory state" "updraft: booting slot A (confirmed A, trial , tries left )"
fresh_env updraft_active=A updraft_trial=B updraft_tries=2
expect "a trial with two tries" "updraft: booting slot B (confirmed A, trial B, tries left 1)"
fresh_env updraft_active=A updraft_trial=B updraft_tries=0
expect "a trial with no tries left" "updraft: booting slot A (confirmed A, trial B, tries left 0)"
fresh_env updraft_active=A updraft_trial=B updraft_tries=9
expect "nine tries (setexpr counts in hex)" "updraft: booting slot B (confirmed A, trial B, tries left 8)"
fresh_env updraft_active=B
expect "B confirmed" "updraft: booting slot B (confirmed B, trial , tries left )"
# The agent's own write: confirm from slot B on trial, through fw_setenv's script.
fresh_env updraft_active=A updraft_trial=B updraft_tries=1
echo "console=ttyAMA0 updraft.slot=B" > "$WORK/cmdline"
"$AGENT" confirm --bootloader u-boot --uboot-config "$WORK/fw_env.config" --cmdline "$WORK/cmdline" \
  > "$WORK/confirm.log" 2>&1 || { cat "$WORK/confirm.log"; fail "updraft-agent confirm"; }
expect "after updraft-agent confirm" "updraft: booting slot B (confirmed B, trial , tries left 0)"
echo "PASS: U-Boot reads the environment the agent writes and runs the shipped slot choice"
