#!/usr/bin/env bash
# The real-reboot test (issue 19): a PC in QEMU (software emulation, no KVM) boots
# Debian's kernel through a real GRUB, whose environment block chooses slot A or B
# with the shipped script (packaging/grub/updraft-ab.cfg). Each slot holds a root
# file system (squashfs) built here from busybox-static, updraft-agent and its
# libraries, and grub-editenv. The agent on it talks HTTPS to updraftd on the host:
#   1. 1.0.0 in slot A updates to 2.0.0 (a delta into slot B), reboots for real,
#      GRUB boots B on trial, the health check passes, the agent confirms it:
#      the deployment succeeds and the device reports 2.0.0;
#   2. 3.0.0, whose health check fails, goes into slot A; the reboot boots it on
#      trial, the agent refuses it and reboots, GRUB falls back to B, and the server
#      shows the deployment rolled_back with the device still on 2.0.0;
#   3. 4.0.0, whose /sbin/init dies, goes into slot A; the kernel panics (panic=5
#      resets it) at each of its two tries, GRUB's count runs out, B boots again,
#      and the agent there reports rolled_back (520): no agent ever ran in 4.0.0.
# Usage: real_reboot_test.sh UPDRAFTD UPDRAFT UPDRAFT_AGENT. Exit 0 pass, 1 fail,
# 77 skip (a tool missing: qemu-system-x86, grub-pc-bin, busybox-static,
# linux-image-amd64). Every wait is bounded; QEMU and updraftd stop at exit.
# QEMU_ACCEL=kvm uses KVM where there is one (not in CI: it shows the emulated time).
set -euo pipefail
UPDRAFTD=$1 UPDRAFT=$2 AGENT=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)

skip() { echo "SKIP: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (qemu-system-x86)"
command -v grub-mkimage >/dev/null && [[ -f /usr/lib/grub/i386-pc/lnxboot.img ]] ||
  skip "GRUB for BIOS PCs is not installed (grub-pc-bin)"
command -v grub-editenv >/dev/null || skip "grub-editenv is not installed (grub-common)"
# ldd fails on a static binary: the rootfs takes busybox without its libraries.
[[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 || skip "no static busybox (busybox-static)"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n $kernel ]] || skip "no kernel in /boot (linux-image-amd64)"
kver=${kernel#/boot/vmlinuz-}
[[ -d /lib/modules/$kver ]] || skip "no modules for $kver"
need_tools mksquashfs mkfs.ext2 cpio gzip modprobe openssl curl jq

start_work reboot
WAIT_POLL=0.5
fail() { echo "FAIL: $*"; echo "--- updraftd log"; tail -20 "$WORK/server/updraftd.log" || true
         echo "--- serial console"; tail -60 "$WORK/serial.log" || true; exit 1; }
started=$SECONDS
step() { echo "[$((SECONDS - started)) s] $*"; }

# --- updraftd over HTTPS; the agent pins its key.
mkdir -p "$WORK/server"
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server/tls.key \
  -out server/tls.pem -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
pin=$(openssl x509 -in server/tls.pem -pubkey -noout | openssl pkey -pubin -outform DER |
      openssl dgst -sha256 -hex | sed 's/.* //')
"$UPDRAFTD" --data "$WORK/server" --port 0 --port-file "$WORK/server/port" --tick-ms 200 \
  --poll-seconds 2 --active-poll-seconds 1 --tls-cert server/tls.pem --tls-key server/tls.key \
  > "$WORK/server/updraftd.log" 2>&1 &
PIDS+=($!)
wait_for 15 test -s "$WORK/server/port" || fail "updraftd did not start"
PORT=$(cat "$WORK/server/port")
export UPDRAFT_SERVER=https://127.0.0.1:$PORT UPDRAFT_TOKEN_FILE=$WORK/server/admin.token
ADMIN=$(cat "$WORK/server/admin.token")
api() { curl -sS --max-time 20 --insecure --fail-with-body -H "Authorization: Bearer $ADMIN" "$UPDRAFT_SERVER$1"; }
# The CLI checks the server's certificate; this one is self-signed.
cli() { SSL_CERT_FILE=$WORK/server/tls.pem "$UPDRAFT" "$@"; }
slot_bytes=$((32 * 1024 * 1024))
cli product create gw --profile linux --slot-size $slot_bytes >/dev/null ||
  fail "product create"
secret=secret-of-the-qemu-gateway-0123
cli devices register gw-q --product gw --hardware qemu-pc --secret "$secret" >/dev/null ||
  fail "devices register"

# --- the root file systems: busybox, the agent and grub-editenv with their
# libraries, a release file and a health check. Reproducible: fixed owners and times.
copy_with_libs() { # BINARY DEST_DIR ROOT
  install -D -m 755 "$1" "$3$2/$(basename "$1")"
  ldd "$1" | grep -o '/[^ ]*' | while read -r lib; do
    install -D -m 755 "$lib" "$3$lib"
  done
}
make_rootfs() { # VERSION HEALTH_EXIT [broken: an init that dies at once]
  local root=$WORK/rootfs-$1
  mkdir -p "$root"/{bin,sbin,usr/bin,etc/updraft,proc,sys,dev,data,tmp,run}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  if [[ ${3:-} == broken ]]; then
    printf '#!/bin/sh\necho "rootfs: %s cannot start"\nexit 1\n' "$1" > "$root/sbin/init"
    chmod 755 "$root/sbin/init"
  else
    install -m 755 "$here/real_reboot/rootfs-init" "$root/sbin/init"
  fi
  copy_with_libs "$AGENT" /usr/bin "$root"
  copy_with_libs "$(command -v grub-editenv)" /usr/bin "$root"
  echo "updraft-reboot-test $1" > "$root/etc/updraft-release"
  # A healthy release confirms itself with `updraft-agent confirm`, as a health
  # check may; the agent sees the boot loader's environment say so.
  if [[ $2 == 0 ]]; then
    printf '#!/bin/sh\necho "health: release %s, slot $UPDRAFT_SLOT"\n%s\n' "$1" \
      'exec updraft-agent confirm --config /data/updraft/agent.conf' > "$root/etc/updraft/health"
  else
    printf '#!/bin/sh\necho "health: release %s, slot $UPDRAFT_SLOT"\nexit 1\n' "$1" \
      > "$root/etc/updraft/health"
  fi
  chmod 755 "$root/etc/updraft/health"
  mksquashfs "$root" "$WORK/rootfs-$1.img" -noappend -all-root -mkfs-time 0 -all-time 0 \
    -no-progress -quiet >/dev/null
}
make_rootfs 1.0.0 0
make_rootfs 2.0.0 0
make_rootfs 3.0.0 1
make_rootfs 4.0.0 0 broken
step "root file systems: $(stat -c %s "$WORK"/rootfs-*.img | tr '\n' ' ')bytes"

# --- the initramfs: busybox, the drivers as modules, and its /init.
initrd=$WORK/initrd
mkdir -p "$initrd"/{bin,proc,sys,dev,lib/modules}
cp /bin/busybox "$initrd/bin/busybox"
install -m 755 "$here/real_reboot/initramfs-init" "$initrd/init"
# The drivers and their dependencies in load order, as modprobe resolves them.
for m in virtio_pci virtio_blk ext4 squashfs e1000; do
  modprobe -S "$kver" --show-depends "$m" || fail "module $m not found for $kver"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$WORK/modules"
while read -r ko; do
  name=$(basename "$ko"); name=${name%%.ko*}
  case $ko in
    *.xz) xz -dc "$ko" > "$initrd/lib/modules/$name.ko" ;;
    *.zst) zstd -qdc "$ko" > "$initrd/lib/modules/$name.ko" ;;
    *) cp "$ko" "$initrd/lib/modules/$name.ko" ;;
  esac
  echo "$name" >> "$initrd/lib/modules/load-order"
done < "$WORK/modules"

# --- the data disk: kernel, initramfs, GRUB's environment and the slot choice,
# and the agent's state, provisioned here with 1.0.0 in slot A.
data=$WORK/data
mkdir -p "$data/boot/grub" "$data/updraft"
cp "$kernel" "$data/boot/vmlinuz"
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$data/boot/initrd.gz"
cp "$repo/packaging/grub/updraft-ab.cfg" "$here/real_reboot/grub.cfg" "$data/boot/grub/"
grub-editenv "$data/boot/grub/grubenv" create
grub-editenv "$data/boot/grub/grubenv" set updraft_active=A
truncate -s $slot_bytes "$WORK/slot-a.img" "$WORK/slot-b.img"
"$AGENT" provision --image "$WORK/rootfs-1.0.0.img" --version 1.0.0 --security-counter 1 \
  --slot-a "$WORK/slot-a.img" --slot-b "$WORK/slot-b.img" --state "$data/updraft/state" \
  > /dev/null 2>&1 || fail "provision"
api /api/v1/trust/root > "$data/updraft/root.bin" || fail "trust root"
cat > "$data/updraft/agent.conf" <<CONF
server = https://10.0.2.2:$PORT
server-key-sha256 = $pin
device-id = gw-q
secret = $secret
root = /data/updraft/root.bin
product = gw
hardware = qemu-pc
slot-a = /dev/vdb
slot-b = /dev/vdc
state = /data/updraft/state
poll-seconds = 2
health-cmd = /etc/updraft/health
bootloader = grub
grub-env = /data/boot/grub/grubenv
on-reboot = sync; reboot -f
boot-tries = 2
CONF
mkfs.ext2 -q -F -L updraft-data -d "$data" "$WORK/data.img" 96M > /dev/null || fail "mkfs.ext2"

# --- GRUB: a core image loaded by the PC's firmware as if it were a kernel
# (lnxboot), so no disk needs installing to. The configuration built into it
# (read by the rescue parser, which knows no comments) hands over to grub.cfg.
printf 'configfile (hd0)/boot/grub/grub.cfg\n' > "$WORK/embedded.cfg"
grub-mkimage -O i386-pc -o "$WORK/core.img" -c "$WORK/embedded.cfg" -p '(hd0)/boot/grub' \
  biosdisk ext2 linux normal loadenv test echo serial terminal configfile cat ||
  fail "grub-mkimage"
cat /usr/lib/grub/i386-pc/lnxboot.img "$WORK/core.img" > "$WORK/grub.lnx"

# --- the releases and the first campaign, then the machine.
upload() { # VERSION: rootfs-VERSION.img as a release, security counter its major; prints its id
  cli release upload "$WORK/rootfs-$1.img" --product gw --version "$1" --security-counter "${1%%.*}" \
    --hardware qemu-pc | sed -n 's/^release \([0-9]*\).*/\1/p'
}
roll_out() { # VERSION: uploads it and starts a campaign of it for gw-q; prints the campaign's id
  local release campaign
  release=$(upload "$1")
  [[ -n $release ]] || return 1
  campaign=$(cli campaign create --name "to $1" --release "$release" --device gw-q --start |
             sed -n 's/^campaign \([0-9]*\).*/\1/p' | head -n 1)
  [[ -n $campaign ]] && echo "$campaign"
}
[[ -n $(upload 1.0.0) ]] || fail "upload 1.0.0"
c1=$(roll_out 2.0.0) || fail "rolling out 2.0.0"
step "updraftd on port $PORT, campaign $c1 for 2.0.0; booting the machine"
qemu-system-x86_64 -machine "pc,accel=${QEMU_ACCEL:-tcg}" -m 512 -display none -monitor none \
  -serial "file:$WORK/serial.log" -kernel "$WORK/grub.lnx" \
  -drive "file=$WORK/data.img,format=raw,if=virtio" \
  -drive "file=$WORK/slot-a.img,format=raw,if=virtio" \
  -drive "file=$WORK/slot-b.img,format=raw,if=virtio" \
  -nic user,model=e1000 &
PIDS+=($!)

deployment() { # CAMPAIGN FIELD -> that field of the device's deployment in it
  api /api/v1/devices/gw-q |
    jq -r --argjson c "$1" --arg f "$2" '.deployments[] | select(.campaign == $c) | .[$f]'
}
deployment_state() { deployment "$1" state; }
device_version() { api /api/v1/devices/gw-q | jq -r .version; }
state_is() { [[ $(deployment_state "$1") == "$2" ]]; }
# GRUB's lines on the serial console start with terminal escapes: no ^ anchor.
grub_slots() { grep -o 'updraft: booting slot [AB]' "$WORK/serial.log" | sed 's/.* //' | tr -d '\n'; }

wait_for 600 state_is "$c1" succeeded ||
  fail "the update to 2.0.0 did not succeed (state $(deployment_state "$c1"))"
# The server writes a device's version with its batched statuses, a moment
# after the deployment's state.
version_is() { [[ $(device_version) == "$1" ]]; }
wait_for 10 version_is 2.0.0 || fail "the device reports $(device_version), not 2.0.0"
grep -q 'updraft: booting slot B' "$WORK/serial.log" || fail "GRUB never booted slot B"
grep -q 'rootfs: updraft-reboot-test 2.0.0 on updraft.slot=B' "$WORK/serial.log" ||
  fail "2.0.0 did not run from slot B"
grep -q 'updraft-agent: slot B confirmed: the boot loader boots it from now on' "$WORK/serial.log" ||
  fail "updraft-agent confirm did not confirm slot B"
[[ $(grub_slots) == AB ]] || fail "GRUB booted slots $(grub_slots), not A then B"
step "2.0.0 confirmed in slot B after a real reboot (GRUB booted $(grub_slots))"

c2=$(roll_out 3.0.0) || fail "rolling out 3.0.0"
wait_for 600 state_is "$c2" rolled_back ||
  fail "the bad 3.0.0 was not rolled back (state $(deployment_state "$c2"))"
# The rollback is reported from the slot GRUB fell back to, after a real reboot.
wait_for 300 grep -q 'the boot loader fell back to slot B' "$WORK/serial.log" ||
  fail "no boot after the fallback"
[[ $(device_version) == 2.0.0 ]] || fail "after the rollback the device reports $(device_version)"
grep -q 'health: release 3.0.0, slot A' "$WORK/serial.log" || fail "3.0.0 never ran its health check"
# A (1.0.0), B on trial (2.0.0), A on trial (3.0.0), B after the fallback.
[[ $(grub_slots) == ABAB ]] || fail "GRUB booted slots $(grub_slots), not ABAB"
step "3.0.0 failed its trial in slot A; GRUB fell back to B; rolled_back on the server (GRUB booted $(grub_slots))"

c3=$(roll_out 4.0.0) || fail "rolling out 4.0.0"
wait_for 600 state_is "$c3" rolled_back ||
  fail "4.0.0, which never starts, was not rolled back (state $(deployment_state "$c3"))"
error=$(deployment "$c3" error)
[[ $error == 520 ]] || fail "4.0.0's rollback carries error $error, not 520 (AGENT_TRIAL_FAILED)"
[[ $(grep -c 'rootfs: 4.0.0 cannot start' "$WORK/serial.log") == 2 ]] ||
  fail "4.0.0 was not tried exactly twice (--boot-tries 2)"
[[ $(device_version) == 2.0.0 ]] || fail "after 4.0.0 the device reports $(device_version)"
# ...then A twice on trial (4.0.0, which panics), and B when no try is left.
[[ $(grub_slots) == ABABAAB ]] || fail "GRUB booted slots $(grub_slots), not ABABAAB"
step "4.0.0 never started; GRUB's tries ran out, B booted, rolled_back (520) on the server (GRUB booted $(grub_slots))"
echo "PASS: real reboots through GRUB: update confirmed, unhealthy and unbootable releases rolled back ($((SECONDS - started)) s)"
