#!/usr/bin/env bash
# The Cortex-M check (CI): builds the portable libraries and the smoke firmware with
# the cortex-m4 preset, proves the firmware links no heap, exceptions or RTTI,
# prints its flash and RAM, then runs one real delta apply under QEMU and checks
# the result. Fails on any problem. See agent/cortex_m/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/cortex-m4
elf=$build/agent/cortex_m/updraft_smoke.elf
map=$build/agent/cortex_m/updraft_smoke.map

echo "== build (cortex-m4)"
cmake --preset cortex-m4 >/dev/null
cmake --build --preset cortex-m4 -j "$(nproc 2>/dev/null || echo 2)"

# Heap (malloc family, sbrk), operator new/delete (_Znw/_Zna/_Zdl/_Zda: any
# overload), exceptions and RTTI (_ZTI: typeinfo objects).
forbidden='^(malloc|free|calloc|realloc|_malloc_r|_free_r|_calloc_r|_realloc_r|_sbrk|_sbrk_r|_Zn[wa].*|_Zd[la].*|__cxa_throw|__cxa_allocate_exception|__cxa_begin_catch|__cxa_rethrow|__gxx_personality_v0|_Unwind_Resume|_ZTI.*)$'

echo "== symbols"
found=$(arm-none-eabi-nm "$elf" | awk '{print $NF}' | grep -E "$forbidden" | sort -u || true)
if [ -n "$found" ]; then
  echo "cortex-m check: FAIL: $elf links forbidden symbols:"; echo "$found" | sed 's/^/  /'; exit 1
fi
# The libraries too: the firmware links only what it calls, so a slip in code it
# does not call (yet) shows up here as an undefined reference.
for lib in $(find "$build" -name 'libupdraft_*.a' | sort); do
  found=$(arm-none-eabi-nm -u "$lib" | awk '{print $NF}' | grep -E "$forbidden" | sort -u || true)
  if [ -n "$found" ]; then
    echo "cortex-m check: FAIL: $lib refers to forbidden symbols:"; echo "$found" | sed 's/^/  /'; exit 1
  fi
done
echo "no malloc/free, operator new/delete, __cxa_throw or typeinfo in the firmware or in $(find "$build" -name 'libupdraft_*.a' | wc -l) portable libraries"

echo "== size"
arm-none-eabi-size "$elf"
read -r text data bss _ < <(arm-none-eabi-size "$elf" | tail -1)
testdata=$(arm-none-eabi-size -A "$elf" | awk '$1 == ".testdata" {print $2}')
echo "flash $((text + data)) B = firmware $((text + data - testdata)) B + test inputs (old image and patch) $testdata B"
echo "RAM   $((data + bss)) B (.data + .bss + stack)"
# Who the firmware's flash goes to, from the linker map (after --gc-sections).
awk '
  function hex(s,   v, i) { v = 0; for (i = 3; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(tolower(s), i, 1)) - 1; return v }
  /^Linker script and memory map/ { on = 1; next }
  !on { next }
  /^ \.[^ ]+$/ { pending = $1; next }   # a long section name: its figures are on the next line
  {
    if (pending != "" && $1 ~ /^0x/) { name = pending; addr = $1; size = $2; file = $3 }
    else if ($1 ~ /^\./ && $2 ~ /^0x/ && NF >= 4) { name = $1; addr = $2; size = $3; file = $4 }
    else { pending = ""; next }
    pending = ""
    if (name !~ /^\.(text|rodata|data)/ || hex(size) == 0) next
    if (match(file, /libupdraft_[a-z_]+\.a/)) who = substr(file, RSTART + 11, RLENGTH - 13)
    else if (file ~ /updraft_smoke\.elf\.dir/) who = "smoke firmware (startup, semihosting, test)"
    else who = "newlib-nano + libgcc (memcpy, memset, 64-bit divide)"
    bytes[who] += hex(size)
  }
  END { for (w in bytes) printf "  %6d B  %s\n", bytes[w], w }
' "$map" | sort -rn

echo "== run (qemu-system-arm -M mps2-an386)"
# -icount shift=0: one instruction takes 1 ns of virtual time, so SysTick, clocked
# at the board's 25 MHz, counts one tick per 40 instructions (see systick_counter.h).
status=0
output=$(timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" 2>&1) || status=$?
echo "$output"
if [ "$status" -ne 0 ] || ! grep -q '^smoke: PASS' <<<"$output"; then
  echo "cortex-m check: FAIL: the smoke firmware exited with status $status"; exit 1
fi
read -r apply_ticks hash_ticks < <(sed -n 's/^smoke: ticks: apply \([0-9]*\), sha256 of slot B \([0-9]*\)$/\1 \2/p' <<<"$output")
new_size=$(sed -n 's/^smoke: new image \([0-9]*\) B.*/\1/p' <<<"$output")
echo "instructions: apply $((apply_ticks * 40)) ($((apply_ticks * 40 / new_size)) per new byte)," \
     "sha256 of the new image $((hash_ticks * 40)) ($((hash_ticks * 40 / new_size)) per byte)"
echo "cortex-m check: ok"
