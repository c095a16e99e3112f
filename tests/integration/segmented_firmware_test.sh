#!/usr/bin/env bash
# Segmented patches from real toolchain output (issue 14, Kotaemon's load segments):
# arm-none-eabi-gcc links two releases of a Cortex-M4 program whose flash is in
# three regions (vector table at 0x08000000, .text and .data's load image at
# 0x08004000, .rodata at 0x08080000). `updraft diff` takes the ELF files, `updraft
# patch` rebuilds the new release from the old one's Intel HEX (objcopy's), and the
# result must be byte for byte what objcopy makes of the new ELF, at the same
# addresses. Also: HEX in and ELF out of the other direction, a patch applied to
# the wrong release, and a corrupt HEX file, each refused with its error.
# Usage: segmented_firmware_test.sh UPDRAFT (KEEP=1 keeps the work folder).
# Exit 0 pass, 1 fail, 77 skip (no arm-none-eabi toolchain).
set -euo pipefail
updraft=$1
for tool in arm-none-eabi-gcc arm-none-eabi-objcopy; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool not installed (Debian package gcc-arm-none-eabi; scripts/setup.sh installs it)"
    exit 77
  fi
done
dir=$(mktemp -d /tmp/updraft-segmented-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
fail() { echo "segmented_firmware_test: FAILED: $*" >&2; exit 1; }
cd "$dir"

cat > layout.ld <<'LD'
MEMORY {
  VECTORS (rx) : ORIGIN = 0x08000000, LENGTH = 1K
  TEXT (rx)    : ORIGIN = 0x08004000, LENGTH = 256K
  RODATA (r)   : ORIGIN = 0x08080000, LENGTH = 64K
  RAM (rwx)    : ORIGIN = 0x20000000, LENGTH = 64K
}
ENTRY(reset_handler)
SECTIONS {
  .isr_vector : { KEEP(*(.isr_vector)) } > VECTORS
  .text : { *(.text*) } > TEXT
  .rodata : { *(.rodata*) } > RODATA
  .data : { *(.data*) } > RAM AT > TEXT
  .bss : { *(.bss*) *(COMMON) } > RAM
}
LD

# Release N: a vector table, a few dozen functions calling one another, a lookup
# table and strings in .rodata, initialised data. Release 2 changes one function
# and one string.
make_source() {
  local version=$1
  {
    echo '#include <stdint.h>'
    echo 'extern uint32_t _estack;'
    echo 'volatile uint32_t counter = 7;'
    echo 'uint32_t scratch[16];'
    for i in $(seq 0 39); do
      echo "__attribute__((noinline)) uint32_t f$i(uint32_t x);"
    done
    echo "static const uint32_t table[64] = {$(seq -s, 1 7 448)};"
    if [ "$version" = 1 ]; then
      echo 'const char banner[] = "meter firmware 1.0.0 (c) Updraft";'
    else
      echo 'const char banner[] = "meter firmware 1.1.0 (c) Updraft, with a fix";'
    fi
    for i in $(seq 0 39); do
      local next=$(( (i * 7 + 3) % 40 ))
      if [ "$version" = 2 ] && [ "$i" = 17 ]; then
        echo "uint32_t f$i(uint32_t x) { x ^= table[x & 63] * 3u + 11u; scratch[x & 15] = x; return x > 9000u ? f$next(x >> 2) : x + banner[x % 8]; }"
      else
        echo "uint32_t f$i(uint32_t x) { x += table[(x + $i) & 63]; scratch[x & 15] += x; return x > 5000u ? f$next(x >> 1) : x ^ banner[$i % 8]; }"
      fi
    done
    echo 'void reset_handler(void) { for (;;) counter = f0(counter); }'
    echo '__attribute__((section(".isr_vector"))) const void* const vectors[16] = {'
    echo '  &_estack, (const void*)reset_handler };'
  } > "v$version.c"
}
for v in 1 2; do
  make_source $v
  arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -nostdlib -ffreestanding -Wl,--defsym,_estack=0x20010000 \
    -T layout.ld -o "v$v.elf" "v$v.c"
  arm-none-eabi-objcopy -O ihex "v$v.elf" "v$v.hex"
  arm-none-eabi-objcopy -O binary --gap-fill 0xff "v$v.elf" "v$v.bin"
done

"$updraft" diff v1.elf v2.elf -o elf.updp --profile mcu-tiny > diff.out || fail "diff of the ELF files"
cat diff.out
grep -q "old: ELF, 3 load segments: .* at 0x08000000; .* at 0x08004000; .* at 0x08080000;" diff.out ||
  fail "diff did not see the three flash regions"
"$updraft" info elf.updp > info.out || fail "info"
grep -q "new layout .* at 0x08080000;" info.out || fail "info does not show the layout"

# ELF patch, HEX old image, HEX out: what objcopy makes of the new ELF.
"$updraft" patch v1.hex elf.updp -o out.hex > patch.out || fail "patch v1.hex"
cat patch.out
grep -q "3 load segments, as Intel HEX" patch.out || fail "patch did not write 3 segments"
arm-none-eabi-objcopy -I ihex -O binary --gap-fill 0xff out.hex out_from_hex.bin
arm-none-eabi-objcopy -I ihex -O binary --gap-fill 0xff v2.hex v2_from_hex.bin
cmp out_from_hex.bin v2_from_hex.bin || fail "rebuilt HEX differs from objcopy's"
# Same start address too: objcopy's ihex-to-binary drops it, so compare the records' addresses.
[ "$(grep -c '^:02000004' out.hex)" -ge 2 ] || fail "rebuilt HEX has no extended address records"
"$updraft" patch v1.elf elf.updp -o out.bin --output-format bin > /dev/null || fail "patch v1.elf"
cmp out.bin v2.bin || fail "flat binary differs from objcopy -O binary --gap-fill 0xff"

# HEX in, the other direction, applied to an ELF old image.
"$updraft" diff v2.hex v1.hex -o back.updp --profile mcu-tiny -q || fail "diff of the HEX files"
"$updraft" patch v2.elf back.updp -o back.bin > /dev/null || fail "patch back"
cmp back.bin v1.bin || fail "the way back differs"

# Refusals: the wrong old release, a raw binary whose addresses are unknown, a corrupt HEX.
if "$updraft" patch v2.hex elf.updp -o wrong.hex 2> wrong.err; then fail "applied to the wrong release"; fi
grep -q "PATCH_WRONG_BASE" wrong.err || { cat wrong.err; fail "wrong release: not PATCH_WRONG_BASE"; }
if "$updraft" patch v1.bin elf.updp -o wrong.hex 2> raw.err; then fail "applied to a flat binary"; fi
grep -q "PATCH_WRONG_BASE" raw.err || { cat raw.err; fail "flat binary: not PATCH_WRONG_BASE"; }
sed '3s/^:10\(..\)/:10\1X/' v1.hex > corrupt.hex
if "$updraft" diff corrupt.hex v2.hex -o x.updp 2> corrupt.err; then fail "took a corrupt HEX file"; fi
grep -q "FIRMWARE_FILE_MALFORMED.*corrupt.hex: line 3" corrupt.err || { cat corrupt.err; fail "corrupt HEX: wrong error"; }
[ ! -e x.updp ] && [ ! -e wrong.hex ] || fail "a refused command left a file behind"

# The figures: the segmented patch next to a plain one of objcopy's gap-filled binaries.
"$updraft" diff v1.bin v2.bin -o flat.updp --profile mcu-tiny -q
echo "segmented_firmware_test: PASS: new image $(stat -c %s v2.bin) bytes flat;" \
  "segmented patch $(stat -c %s elf.updp) bytes, flat patch $(stat -c %s flat.updp) bytes"
