#!/usr/bin/env bash
# The Cortex-M check (CI): builds the portable libraries and the smoke firmware with
# the cortex-m4 preset, and the portable libraries alone for ARMv6-M with the
# cortex-m0 preset; proves that the firmware and every portable library (mbedTLS's
# objects among them) link no heap, exceptions or RTTI; prints the firmware's flash
# and RAM and the flash of one ECDSA P-256 verify on ARMv6-M; then runs the firmware
# under QEMU (a manifest signature check with mbedTLS, one real delta apply) and
# checks the result. The cortex-m0 preset also builds the water meter firmware
# (agent/cortex_m/meter): the same symbol check, its flash and RAM, then
# scripts/meter_check.sh --ci runs it on QEMU's microbit against a real updraftd
# (skipped, with a message, only if QEMU or a host tool it needs is missing).
# Fails on any problem. See agent/cortex_m/README.md and docs/agent-mcu.md.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/cortex-m4
build_m0=build/cortex-m0
elf=$build/agent/cortex_m/updraft_smoke.elf
map=$build/agent/cortex_m/updraft_smoke.map
meter_elf=$build_m0/agent/cortex_m/meter/updraft_meter.elf
meter_map=$build_m0/agent/cortex_m/meter/updraft_meter.map
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (cortex-m4)"
cmake --preset cortex-m4 >/dev/null
cmake --build --preset cortex-m4 -j "$jobs"
echo "== build (cortex-m0: libraries and the meter firmware)"
cmake --preset cortex-m0 >/dev/null
cmake --build --preset cortex-m0 -j "$jobs"

# Heap (malloc family, sbrk), operator new/delete (_Znw/_Zna/_Zdl/_Zda: any
# overload), exceptions and RTTI (_ZTI: typeinfo objects).
forbidden='^(malloc|free|calloc|realloc|_malloc_r|_free_r|_calloc_r|_realloc_r|_sbrk|_sbrk_r|_Zn[wa].*|_Zd[la].*|__cxa_throw|__cxa_allocate_exception|__cxa_begin_catch|__cxa_rethrow|__gxx_personality_v0|_Unwind_Resume|_ZTI.*)$'

echo "== symbols"
for firmware in "$elf" "$meter_elf"; do
  found=$(arm-none-eabi-nm "$firmware" | awk '{print $NF}' | grep -E "$forbidden" | sort -u || true)
  if [ -n "$found" ]; then
    echo "cortex-m check: FAIL: $firmware links forbidden symbols:"; echo "$found" | sed 's/^/  /'; exit 1
  fi
done
# The libraries too: the firmware links only what it calls, so a slip in code it
# does not call (yet) shows up here as an undefined reference.
libs=$(find "$build" "$build_m0" -name 'libupdraft_*.a' | sort)
for lib in $libs; do
  found=$(arm-none-eabi-nm -u "$lib" | awk '{print $NF}' | grep -E "$forbidden" | sort -u || true)
  if [ -n "$found" ]; then
    echo "cortex-m check: FAIL: $lib refers to forbidden symbols:"; echo "$found" | sed 's/^/  /'; exit 1
  fi
done
echo "no malloc/free, operator new/delete, __cxa_throw or typeinfo in the two firmwares or in" \
     "$(wc -w <<<"$libs") portable libraries (cortex-m4 and cortex-m0)"

echo "== size"
arm-none-eabi-size "$elf"
read -r text data bss _ < <(arm-none-eabi-size "$elf" | tail -1)
testdata=$(arm-none-eabi-size -A "$elf" | awk '$1 == ".testdata" {print $2}')
echo "flash $((text + data)) B = firmware $((text + data - testdata)) B + test inputs (old image, patch, manifest, key) $testdata B"
echo "RAM   $((data + bss)) B (.data + .bss + stack)"
# Flash by library, from a linker map (after --gc-sections): "<bytes> <who>" lines.
flash_by_library() {
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
      else if (file ~ /updraft_meter\.elf\.dir/) who = "meter firmware (startup, main, ports, semihosting)"
      else who = "newlib-nano + libgcc (memcpy, memset, 64-bit divide)"
      bytes[who] += hex(size)
    }
    END { for (w in bytes) printf "%d %s\n", bytes[w], w }
  ' "$1" | sort -rn
}
# Who the firmware's flash goes to.
flash_by_library "$map" | awk '{ n = $1; $1 = ""; printf "  %6d B %s\n", n, $0 }'

# Flash of one ECDSA P-256 verify on ARMv6-M. The archives hold everything compiled,
# signing and DER code included; a link with verify() as its only root and
# --gc-sections keeps what a firmware pays for (libc/libgcc: memcpy, memset, 64-bit divide).
echo "== size of ECDSA P-256 verification (cortex-m0, ARMv6-M)"
mbedtls_libs=("$build_m0/crypto/mbedtls/libupdraft_crypto_mbedtls.a" "$build_m0/crypto/mbedtls/libupdraft_mbedcrypto.a")
archive_bytes() { arm-none-eabi-size "$@" | awk 'NR > 1 {sum += $1 + $2} END {print sum}'; }
echo "archives: libupdraft_crypto_mbedtls.a $(archive_bytes "${mbedtls_libs[0]}") B," \
     "libupdraft_mbedcrypto.a (mbedTLS objects) $(archive_bytes "${mbedtls_libs[1]}") B (text + data)"
verify=$(arm-none-eabi-nm "${mbedtls_libs[0]}" | awk '$2 == "T" && $3 ~ /MbedTlsVerifier6verify/ {print $3}')
probe=$build_m0/verify_probe.elf
arm-none-eabi-g++ -mcpu=cortex-m0 -mthumb -mfloat-abi=soft --specs=nano.specs -nostartfiles \
  -Wl,--gc-sections -Wl,--entry="$verify" -Wl,-Map="$probe.map" -o "$probe" \
  "${mbedtls_libs[@]}" "$build_m0/crypto/libupdraft_crypto.a" "$build_m0/core/libupdraft_core.a"
read -r text data _ < <(arm-none-eabi-size "$probe" | tail -1)
mbedtls_linked=$(flash_by_library "$probe.map" | awk '$2 ~ /^(mbedcrypto|crypto_mbedtls)$/ {sum += $1} END {print sum}')
echo "linked: verify() needs $((text + data)) B of flash, of which mbedTLS and the verifier" \
     "$mbedtls_linked B (the rest: SHA-256, memcpy/memset, 64-bit divide)"

# The meter: the whole agent for a 192 KB, 16 KB-RAM water meter (docs/agent-mcu.md).
echo "== size of the meter firmware (cortex-m0, QEMU microbit)"
arm-none-eabi-size -A "$meter_elf" | awk '$1 ~ /^\.(text|ARM\.exidx|data|bss|stack)$/'
meter_section() { arm-none-eabi-size -A "$meter_elf" | awk -v s="$1" '$1 == s {print $2}'; }
meter_flash=$(( $(meter_section .text) + $(meter_section .ARM.exidx) + $(meter_section .data) ))
meter_static=$(( $(meter_section .data) + $(meter_section .bss) ))
echo "flash $meter_flash B of 49152 (the linker holds it to 48 KB); static RAM $meter_static B," \
     "the rest of the 16 KB ($(meter_section .stack) B) is the stack"
flash_by_library "$meter_map" | awk '{ n = $1; $1 = ""; printf "  %6d B %s\n", n, $0 }'

echo "== run (qemu-system-arm -M mps2-an386)"
# -icount shift=0: one instruction takes 1 ns of virtual time, so SysTick, clocked
# at the board's 25 MHz, counts one tick per 40 instructions (see systick_counter.h).
status=0
output=$(timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" 2>&1) || status=$?
echo "$output"
if [ "$status" -ne 0 ] || ! grep -q '^smoke: PASS' <<<"$output" ||
   ! grep -q '^smoke: thumb2: PASS' <<<"$output"; then
  echo "cortex-m check: FAIL: the smoke firmware exited with status $status"; exit 1
fi
read -r apply_ticks hash_ticks < <(sed -n 's/^smoke: ticks: apply \([0-9]*\), sha256 of slot B \([0-9]*\)$/\1 \2/p' <<<"$output")
new_size=$(sed -n 's/^smoke: new image \([0-9]*\) B.*/\1/p' <<<"$output")
echo "instructions: apply $((apply_ticks * 40)) ($((apply_ticks * 40 / new_size)) per new byte)," \
     "sha256 of the new image $((hash_ticks * 40)) ($((hash_ticks * 40 / new_size)) per byte)"
# The Cortex-M pair's patch carries a relocation map: every old byte read is predicted.
thumb2_ticks=$(sed -n 's/^smoke: thumb2: ticks: apply \([0-9]*\),.*/\1/p' <<<"$output")
thumb2_size=$(sed -n 's/^smoke: thumb2: new image \([0-9]*\) B.*/\1/p' <<<"$output")
echo "instructions, relocation-predicted patch: apply $((thumb2_ticks * 40))" \
     "($((thumb2_ticks * 40 / thumb2_size)) per new byte)"
verify_ticks=$(sed -n 's/^smoke: ticks: verify \([0-9]*\)$/\1/p' <<<"$output")
read -r arena stack < <(sed -n 's/^smoke: signature: arena \([0-9]*\) .* stack \([0-9]*\) B .*/\1 \2/p' <<<"$output")
echo "ECDSA P-256 verify (mbedTLS): $((verify_ticks * 40)) instructions, arena $arena B at the least," \
     "stack $stack B"

echo "== meter (scripts/meter_check.sh --ci: QEMU microbit, updraft-modem, updraftd)"
meter_status=0
bash scripts/meter_check.sh --ci || meter_status=$?
if [ "$meter_status" -eq 77 ]; then
  echo "cortex-m check: the meter check was SKIPPED (see above for what is missing)"
elif [ "$meter_status" -ne 0 ]; then
  echo "cortex-m check: FAIL: the meter check failed"; exit 1
fi
echo "cortex-m check: ok"
