# Toolchain for the Cortex-M0 build (preset `cortex-m0`): ARMv6-M, Thumb-1 only, no
# hardware divide, soft float. Everything else is the Cortex-M4 toolchain's
# (arm-none-eabi.cmake). The preset builds the portable libraries and the water
# meter firmware (agent/cortex_m/meter, for QEMU's microbit); the smoke firmware in
# agent/cortex_m is for the M4 board.
set(UPDRAFT_ARM_CPU cortex-m0)
set(UPDRAFT_ARM_CPU_FLAGS "-mcpu=cortex-m0 -mthumb -mfloat-abi=soft")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
