#!/usr/bin/env python3
"""Benchmarks `updraft diff`/`updraft patch` against bsdiff, xdelta3, zstd --patch-from (and HDiffPatch).

Every tool runs on every pair of the firmware corpus in the same run, so the figures are
comparable. For each tool and pair it reports patch size, diff and apply wall time, and
the peak RSS of the diff and apply processes; for Updraft also the workspace the patch
header declares, which is the RAM a device needs to apply it. Every applied image is
compared with NEW byte for byte. Exits 1 if any tool fails or any output differs.

Python 3 standard library only. Needs GNU time at /usr/bin/time (scripts/setup.sh).
"""

import argparse
import os
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Peak RSS comes from GNU time rather than os.wait4: Python starts children with vfork,
# and Linux carries the parent's RSS into the child's ru_maxrss at exec, so wait4 would
# report at least the interpreter's ~14 MB even for a tool that uses 1 MB.
GNU_TIME = "/usr/bin/time"
PEER_PROGRAMS = ["bsdiff", "bspatch", "xdelta3", "zstd"]
PROFILES = ["mcu-tiny", "mcu", "linux"]


class ToolFailed(Exception):
    pass


@dataclass
class Pair:
    name: str
    old: Path
    new: Path


@dataclass
class Tool:
    """How to diff and apply with one tool. Commands are built per pair."""
    name: str
    diff: callable    # (pair, patch) -> argv
    apply: callable   # (pair, patch, out) -> argv
    workspace: callable = None  # (patch) -> bytes the patch says the device needs


def updraft_tool(exe, spec):
    """`spec` is a profile, then optionally @N for patch format version N and :ARCH for
    `--arch ARCH` (e.g. mcu-tiny@1, mcu-tiny:none)."""
    spec, _, arch = spec.partition(":")
    profile, _, version = spec.partition("@")
    extra = (["--format-version", version] if version else []) + (["--arch", arch] if arch else [])

    def workspace(patch):
        out = subprocess.run([exe, "info", str(patch), "--json"], capture_output=True, text=True)
        if out.returncode != 0:
            raise ToolFailed(f"updraft info exited {out.returncode}: {out.stderr.strip()}")
        try:
            return int(json.loads(out.stdout)["workspace_bytes"])
        except (ValueError, KeyError, TypeError) as e:
            raise ToolFailed(f"updraft info --json gave no workspace_bytes: {e!r}") from e

    return Tool(
        name=f"updraft-{profile}" + (f"-v{version}" if version else "") + (f"-{arch}" if arch else ""),
        diff=lambda pair, patch: [exe, "diff", pair.old, pair.new, "-o", patch, "--profile", profile,
                                  *extra],
        apply=lambda pair, patch, out: [exe, "patch", pair.old, patch, "-o", out],
        workspace=workspace)


def zstd_window_log(pair):
    # The window must span the old image (the dictionary) and the new one; 10 is zstd's minimum.
    return max(10, (pair.old.stat().st_size + pair.new.stat().st_size).bit_length())


PEERS = [
    Tool("bsdiff",
         diff=lambda pair, patch: ["bsdiff", pair.old, pair.new, patch],
         apply=lambda pair, patch, out: ["bspatch", pair.old, out, patch]),
    Tool("xdelta3",
         diff=lambda pair, patch: ["xdelta3", "-9", "-S", "djw", "-e", "-f", "-s", pair.old, pair.new, patch],
         apply=lambda pair, patch, out: ["xdelta3", "-d", "-f", "-s", pair.old, patch, out]),
    # The decoder refuses a window larger than its --long, so both sides get the same N.
    Tool("zstd",
         diff=lambda pair, patch: ["zstd", "-q", f"--patch-from={pair.old}", "-19",
                                   f"--long={zstd_window_log(pair)}", "-f", pair.new, "-o", patch],
         apply=lambda pair, patch, out: ["zstd", "-q", "-d", "-f", f"--patch-from={pair.old}",
                                         f"--long={zstd_window_log(pair)}", patch, "-o", out]),
]


def hdiffpatch_peers():
    """HDiffPatch at the issue's best setting, when HDIFFZ and HPATCHZ name a local build.

    Its source is fetched and built under /tmp for measuring; it never enters the repo or CI.
    """
    hdiffz, hpatchz = os.environ.get("HDIFFZ"), os.environ.get("HPATCHZ")
    if not (hdiffz and hpatchz):
        return []
    return [Tool("hdiffpatch",
                 diff=lambda pair, patch: [hdiffz, "-m-1", "-SD", "-c-lzma2-9-16m", "-f",
                                           pair.old, pair.new, patch],
                 apply=lambda pair, patch, out: [hpatchz, "-f", pair.old, patch, out])]


def run_measured(argv, scratch):
    """Runs argv once; returns (wall seconds, peak RSS KiB). Raises ToolFailed on a non-zero exit."""
    rss_file = scratch / "time.out"
    start = time.perf_counter()
    proc = subprocess.run([GNU_TIME, "-f", "%M", "-o", str(rss_file), "--", *map(str, argv)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise ToolFailed(f"{' '.join(map(str, argv))} exited {proc.returncode}: {proc.stderr.strip()}")
    # On failure GNU time writes a "Command exited ..." line first; the figure is always last.
    return seconds, int(rss_file.read_text().split()[-1])


def best_of(repeat, argv, scratch):
    """Minimum wall time over `repeat` runs, and the largest peak RSS seen."""
    runs = [run_measured(argv, scratch) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def measure(tool, pair, repeat, scratch):
    patch = scratch / f"{tool.name}.patch"
    out = scratch / f"{tool.name}.out"
    diff_s, diff_rss = best_of(repeat, tool.diff(pair, patch), scratch)
    apply_s, apply_rss = best_of(repeat, tool.apply(pair, patch, out), scratch)
    if out.read_bytes() != pair.new.read_bytes():
        raise ToolFailed(f"applied output differs from {pair.new.name}")
    result = {
        "patch_bytes": patch.stat().st_size,
        "patch_ratio": patch.stat().st_size / pair.new.stat().st_size,
        "diff_seconds": diff_s, "diff_rss_kib": diff_rss,
        "apply_seconds": apply_s, "apply_rss_kib": apply_rss,
        "workspace_bytes": tool.workspace(patch) if tool.workspace else None,
    }
    patch.unlink()
    out.unlink()
    return result


def load_pairs(corpus, name_filter):
    lines = (corpus / "pairs.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    pairs = []
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t")))
        if name_filter and name_filter not in row["name"]:
            continue
        pairs.append(Pair(row["name"], corpus / row["old_file"], corpus / row["new_file"]))
    return pairs


# Columns: (header, result key, format, compared with the reference tool).
COLUMNS = [
    ("patch B", "patch_bytes", "{:,.0f}", True),
    ("patch/new", "patch_ratio", "{:.2%}", False),
    ("diff s", "diff_seconds", "{:.3f}", True),
    ("diff RSS KiB", "diff_rss_kib", "{:,.0f}", True),
    ("apply s", "apply_seconds", "{:.3f}", True),
    ("apply RSS KiB", "apply_rss_kib", "{:,.0f}", True),
    ("apply RAM B", "workspace_bytes", "{:,.0f}", False),
]


def format_table(title, rows, reference):
    """rows: {tool name: result dict or error string}. Ratios are value / reference's value."""
    ref = rows.get(reference)
    ref = ref if isinstance(ref, dict) else None
    if ref:
        title += f"  [ratios: x {reference}]"
    headers = ["tool"] + [h for h, _, _, _ in COLUMNS]
    table = []
    for tool, r in rows.items():
        if not isinstance(r, dict):
            table.append([tool, f"FAILED: {r}"])
            continue
        cells = [tool]
        for _, key, fmt, cmp in COLUMNS:
            if r[key] is None:
                cells.append("-")
                continue
            cell = fmt.format(r[key])
            if cmp and ref and ref[key]:
                cell += f" {r[key] / ref[key]:.2f}x"
            cells.append(cell)
        table.append(cells)
    # A failed row is [tool, message]: its message may overrun, but must not widen the columns.
    full = [headers] + [row for row in table if len(row) == len(headers)]
    widths = [max(len(row[0]) for row in [headers] + table)]
    widths += [max(len(row[i]) for row in full) for i in range(1, len(headers))]
    lines = [title]
    for row in [headers] + table:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summarize(results, tools):
    """Geometric mean over pairs of each figure; the largest workspace, since a device must fit it."""
    summary = {}
    for tool in tools:
        per_pair = [results[p][tool] for p in results]
        failed = [r for r in per_pair if not isinstance(r, dict)]
        if failed:
            summary[tool] = f"{len(failed)} of {len(per_pair)} pairs"
            continue
        summary[tool] = {key: geomean([r[key] for r in per_pair]) for _, key, _, _ in COLUMNS
                         if key != "workspace_bytes"}
        workspaces = [r["workspace_bytes"] for r in per_pair if r["workspace_bytes"] is not None]
        summary[tool]["workspace_bytes"] = max(workspaces) if workspaces else None
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updraft", type=Path, default=REPO / "build/release/cli/updraft")
    ap.add_argument("--corpus", type=Path,
                    default=Path(os.environ.get("UPDRAFT_CORPUS", REPO.parent / "shared/corpus")) / "public")
    ap.add_argument("--profiles", default=",".join(PROFILES),
                    help="comma-separated Updraft profiles, each optionally @N for patch format "
                         "version N and :ARCH for --arch ARCH, e.g. mcu-tiny@1,mcu-tiny:none,mcu-tiny "
                         "(default: %(default)s)")
    ap.add_argument("--pairs", default="", help="only pairs whose name contains this")
    ap.add_argument("--json", type=Path, help="also write results here")
    ap.add_argument("--repeat", type=int, default=1, help="timing runs per step; the minimum is kept")
    ap.add_argument("--reference", default="updraft-linux", help="tool the ratios compare with")
    ap.add_argument("--skip-updraft", action="store_true", help="benchmark the peers only")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    tools = [] if args.skip_updraft else [updraft_tool(str(args.updraft), p)
                                          for p in args.profiles.split(",") if p]
    tools += PEERS + hdiffpatch_peers()
    needed = PEER_PROGRAMS + [GNU_TIME] + ([] if args.skip_updraft else [str(args.updraft)])
    needed += [t.diff(Pair("", Path(), Path()), Path())[0] for t in hdiffpatch_peers()]
    missing = [p for p in needed if not shutil.which(p)]
    if missing:
        sys.exit(f"delta_bench: missing {', '.join(missing)} (build Updraft, run scripts/setup.sh, "
                 "or pass --skip-updraft)")
    pairs = load_pairs(args.corpus, args.pairs)
    if not pairs:
        sys.exit(f"delta_bench: no pairs in {args.corpus / 'pairs.tsv'} match {args.pairs!r}")

    results = {}
    failures = 0
    with tempfile.TemporaryDirectory(prefix="delta_bench.") as tmp:
        scratch = Path(tmp)
        for i, pair in enumerate(pairs, 1):
            results[pair.name] = {}
            for tool in tools:
                print(f"[{i}/{len(pairs)}] {pair.name}: {tool.name}", file=sys.stderr, flush=True)
                try:
                    results[pair.name][tool.name] = measure(tool, pair, args.repeat, scratch)
                except ToolFailed as e:
                    failures += 1
                    print(f"delta_bench: FAILED {tool.name} on {pair.name}: {e}", file=sys.stderr)
                    results[pair.name][tool.name] = str(e)

    names = [t.name for t in tools]
    for pair in pairs:
        title = (f"{pair.name}: old {pair.old.stat().st_size:,} B -> "
                 f"new {pair.new.stat().st_size:,} B")
        print(format_table(title, results[pair.name], args.reference) + "\n")
    summary = summarize(results, names)
    print(format_table(f"geometric mean over {len(pairs)} pairs (apply RAM: largest)",
                       summary, args.reference))

    if args.json:
        args.json.write_text(json.dumps({
            "corpus": str(args.corpus), "reference": args.reference, "repeat": args.repeat,
            "pairs": [{"name": p.name, "old_bytes": p.old.stat().st_size,
                       "new_bytes": p.new.stat().st_size, "results": results[p.name]} for p in pairs],
            "geomean": summary}, indent=2) + "\n")
    if failures:
        print(f"delta_bench: {failures} tool run(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
