# Updraft A/B slot choice for U-Boot (docs/agent-linux.md, "A real boot loader").
# Compile with `mkimage -A arm -T script -C none -d updraft-ab.cmd updraft-ab.scr`
# and source it from the boot command, then boot the slot it leaves in
# updraft_boot; it adds updraft.slot=A|B to bootargs for the agent:
#
#   bootcmd=load mmc 0:1 ${scriptaddr} updraft-ab.scr; source ${scriptaddr};
#           if test "${updraft_boot}" = "B"; then setenv updraft_part 3; else setenv updraft_part 2; fi;
#           load mmc 0:${updraft_part} ${kernel_addr_r} /boot/zImage;
#           setenv bootargs "${bootargs} root=/dev/mmcblk0p${updraft_part} ro panic=5 updraft.slot=${updraft_boot}";
#           bootz ${kernel_addr_r} - ${fdtcontroladdr}
#
# updraft_active is the confirmed slot. While updraft_trial names a slot and
# updraft_tries is above 0, each boot takes one try (saved before the kernel
# starts) and boots the trial slot; once none is left, the confirmed slot boots
# again and the agent there reports the rollback. The agent writes the three
# variables with fw_setenv (updraft-agent run --bootloader u-boot). setexpr counts
# in hex, which is why tries go from 9 at most.
if test "${updraft_active}" != "B"; then setenv updraft_active A; fi
setenv updraft_boot ${updraft_active}
if test "${updraft_trial}" = "A" || test "${updraft_trial}" = "B"; then
  if test -n "${updraft_tries}" && test ${updraft_tries} -gt 0; then
    setexpr updraft_tries ${updraft_tries} - 1
    saveenv
    setenv updraft_boot ${updraft_trial}
  fi
fi
echo "updraft: booting slot ${updraft_boot} (confirmed ${updraft_active}, trial ${updraft_trial}, tries left ${updraft_tries})"
