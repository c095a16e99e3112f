# Toolchain for the Cortex-M4 build (preset `cortex-m4`): arm-none-eabi-gcc with
# newlib-nano, freestanding C++ (no exceptions, no RTTI), sized for flash. Another
# core's toolchain file sets UPDRAFT_ARM_CPU and UPDRAFT_ARM_CPU_FLAGS, then includes
# this one (arm-none-eabi-cortex-m0.cmake).
#
# Float ABI: soft. The portable code has no floating point, so the FPU would buy
# nothing, and soft-float objects run on every Cortex-M4, with or without an FPU
# (and on an M3 core in QEMU); the startup code need not enable CP10/CP11 either.
# A product that builds with -mfloat-abi=hard compiles our sources with its own flags.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# Compiler checks cannot link a program without our startup code and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

if(NOT DEFINED UPDRAFT_ARM_CPU)
  set(UPDRAFT_ARM_CPU cortex-m4)
  set(UPDRAFT_ARM_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft")
endif()
# Sections per function and per object let --gc-sections drop whatever is unused.
set(UPDRAFT_ARM_C_FLAGS "${UPDRAFT_ARM_CPU_FLAGS} -Os -g -ffunction-sections -fdata-sections")

set(CMAKE_C_FLAGS_INIT "${UPDRAFT_ARM_C_FLAGS}")
# No thread-safe statics: they call __cxa_guard_*, and a bare-metal loop has no threads.
set(CMAKE_CXX_FLAGS_INIT
    "${UPDRAFT_ARM_C_FLAGS} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_ASM_FLAGS_INIT "${UPDRAFT_ARM_CPU_FLAGS} -g")
# newlib-nano: the small libc (memcpy, memset, memmove are all we call from it).
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
