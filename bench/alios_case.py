#!/usr/bin/env python3
"""Builds the AliOS size case: a 1 MB Cortex-M image, then the same with one function changed.

AliOS Things (../shared/seeds/000_c25b4be16e15444d.txt) quotes 4,332 bytes for "minor changes
to the version code" of a 1 MB bin. This makes such a pair from source the project compiles:
generated C with a vector table, a few thousand functions that call each other (BL) and a table
of function pointers (absolute addresses), built with arm-none-eabi-gcc -Os for a Cortex-M4 and flattened
with objcopy. The new image changes one function in the middle so that it grows, as a real fix
does: every function after it moves, so branches across it and the pointer table change too.

Writes OUT/old.bin, OUT/new.bin and OUT/pairs.tsv, so delta_bench.py reads it as a corpus:

    python3 bench/alios_case.py --out /tmp/alios
    python3 bench/delta_bench.py --corpus /tmp/alios

Python 3 standard library only; needs arm-none-eabi-gcc and arm-none-eabi-objcopy.
"""

import argparse
import random
import shutil
import subprocess
import sys
from pathlib import Path

TARGET_BYTES = 1 << 20


def function(i, rng, changed):
    """C source of function f<i>; calls only lower-numbered functions, so no recursion."""
    k = [rng.randrange(1, 1 << 31) for _ in range(6)]
    body = [f"  uint32_t x = a * {k[0]}u + b;", f"  uint32_t y = b ^ {k[1]}u;"]
    for step in range(rng.randrange(6, 14)):
        op = rng.randrange(5)
        if op == 0 and i > 0:
            body.append(f"  if (x & {1 << rng.randrange(8)}u) y += f{rng.randrange(max(0, i - 400), i)}(x, y);")
        elif op == 1:
            body.append(f"  x = (x << {rng.randrange(1, 31)}) | (x >> {rng.randrange(1, 31)});")
        elif op == 2:
            body.append(f"  y = table[(x + {step}u) & 255u] ^ (y * {k[2] | 1}u);")
        elif op == 3:
            body.append(f"  for (uint32_t n = 0; n < (y & 7u); ++n) x += n * {k[3]}u;")
        else:
            body.append(f"  x ^= y + {k[4]}u; y -= x >> 3;")
    if changed:
        # The fix: one more case handled, which makes the function longer.
        body.append(f"  if (x == {k[5]}u) {{ y = table[y & 255u] + {k[0] ^ k[5]}u; x ^= y << 7; }}")
    body.append("  return x ^ y;")
    return f"uint32_t f{i}(uint32_t a, uint32_t b) {{\n" + "\n".join(body) + "\n}\n"


def source(count, changed_index, seed):
    rng = random.Random(seed)
    table = ", ".join(f"{rng.randrange(1 << 32)}u" for _ in range(256))
    parts = ["typedef unsigned int uint32_t;\n",
             f"const uint32_t table[256] = {{{table}}};\n"]
    for i in range(count):
        fn_rng = random.Random(seed * 1_000_003 + i)  # one function's text never depends on another's
        parts.append(function(i, fn_rng, i == changed_index))
    parts.append("typedef uint32_t (*handler)(uint32_t, uint32_t);\n")
    parts.append("const handler handlers[] = {" + ", ".join(f"f{i}" for i in range(count)) + "};\n")
    parts.append("uint32_t _start(uint32_t a) {\n  uint32_t x = a;\n"
                 f"  for (uint32_t i = 0; i < {count}u; ++i) x = handlers[i](x, i);\n  return x;\n}}\n")
    # A Cortex-M image starts with its vector table: the initial stack pointer, then
    # the reset and fault handlers. .text.sorted.* goes first in the default linker
    # script's .text, so the table lands at the load address.
    parts.append('__attribute__((section(".text.sorted.0"), used)) const void *const vectors[16] = {\n'
                 "  (const void *)0x20010000u, " + ", ".join(["(const void *)_start"] * 15) + "};\n")
    return "".join(parts)


def build(c_source, out_bin, work):
    src = work / (out_bin.stem + ".c")
    elf = work / (out_bin.stem + ".elf")
    src.write_text(c_source)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-Os", "-nostdlib",
                    "-ffreestanding", "-fno-inline", "-Wl,-Ttext=0x08000000", "-Wl,-e,_start",
                    "-o", str(elf), str(src)], check=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(out_bin)], check=True)
    return out_bin.stat().st_size


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for old.bin, new.bin, pairs.tsv")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=TARGET_BYTES,
                    help="about how large the images are (default: 1 MiB, the AliOS case)")
    args = ap.parse_args()
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-objcopy"):
        if not shutil.which(tool):
            sys.exit(f"alios_case: {tool} is missing (scripts/setup.sh installs it)")
    args.out.mkdir(parents=True, exist_ok=True)

    # Find the function count that makes about 1 MB, from a small build's bytes per function.
    probe = 200
    per_function = build(source(probe, -1, args.seed), args.out / "probe.bin", args.out) / probe
    count = int(args.bytes / per_function)
    print(f"alios_case: {count} functions, about {per_function:.0f} B each", file=sys.stderr)
    old_size = build(source(count, -1, args.seed), args.out / "old.bin", args.out)
    new_size = build(source(count, count // 2, args.seed), args.out / "new.bin", args.out)
    for leftover in ("probe.bin", "probe.c", "probe.elf"):
        (args.out / leftover).unlink()
    (args.out / "pairs.tsv").write_text(
        "name\told_file\tnew_file\tnote\n"
        f"alios-1mb-one-function\told.bin\tnew.bin\tf{count // 2} of {count} changed and longer\n")
    print(f"alios_case: old {old_size:,} B, new {new_size:,} B in {args.out}")


if __name__ == "__main__":
    main()
