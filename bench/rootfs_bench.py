#!/usr/bin/env python3
"""Benchmarks `updraft diff` on ext4 and squashfs rootfs images against zstd, xdelta3 and bsdiff.

For each kind (ext4, squashfs) and size (64, 256, 1024 MiB) it generates an "old" root
filesystem tree from a seeded PRNG (small text files, compressible binaries, zero-filled and
sparse files, a few large files), derives a "new" tree from it the way a firmware release
does (a few binaries patched, one grown, a new ~5 MiB executable, two files deleted, text
files edited), and builds both images: `mkfs.ext4 -d` (fixed UUID and hash seed, fixed
timestamps, root-owned) or `mksquashfs` (-all-root, -mkfs-time, -all-time). Each tool then
diffs and applies the pair in the same run: `updraft diff --profile linux`, `zstd
--patch-from --long=31 -19 -T0`, `xdelta3 -9 -S djw` with a source window covering the old
image, and bsdiff while the image is at most --bsdiff-max-mb (it needs about 17x the image
in RAM). For each it reports patch size and its ratio to zstd's, diff wall time and MiB/s of
image, and the peak RSS of the diff and apply processes, and checks Updraft against the
issue's targets: diff >= 20 MiB/s of image, RSS <= image + 256 MiB, patch <= 1.0x zstd's.
Every applied image is compared with NEW byte for byte. Exits 1 if a pair cannot be built,
any tool fails or produces an image that differs, or Updraft runs past --timeout (it is
killed then). A peer that is not installed is skipped; one that runs past --peer-timeout
is killed and reported as timed out, which is its result and not a failure of the run.

Python 3 standard library only. Needs GNU time at /usr/bin/time, e2fsprogs, squashfs-tools,
zstd, xdelta3, bsdiff (scripts/setup.sh) and a built updraft:
  cmake --preset release && cmake --build --preset release
"""

import argparse
import filecmp
import hashlib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as `python3 bench/rootfs_bench.py`, bench/ is on sys.path already; imported from
# elsewhere, it is not.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from delta_bench import GNU_TIME, REPO, Pair, Tool, ToolFailed, updraft_tool  # noqa: E402

MIB = 1 << 20
KINDS = ["ext4", "squashfs"]
# Every image gets the same identity and times, so a run's images are the same bytes as the
# last run's on this machine (see README: mke2fs 1.47.0 takes entries in readdir order).
EXT4_UUID = "5eed0019-0000-4000-8000-0000000000e4"
EXT4_HASH_SEED = "5eed0019-0000-4000-8000-00000000a5ed"
DEFAULT_EPOCH = 1700000000
# Targets from issue 19, for `updraft diff` only.
TARGET_MIB_S = 20.0
TARGET_RSS_OVER_IMAGE_MIB = 256
TARGET_PATCH_VS_ZSTD = 1.0
HEARTBEAT_S = 60

START = time.monotonic()


def progress(msg):
    print(f"[{time.monotonic() - START:7.1f} s] {msg}", file=sys.stderr, flush=True)


# --- tree content ----------------------------------------------------------------------------

class Content:
    """Deterministic file content from one seeded PRNG.

    text: words drawn with a Zipf-like skew, with newlines and config punctuation (gzip takes
    it to about 0.30). binary: code() (see there), with an ELF magic at the front and a
    string table at the end.
    """

    def __init__(self, rng):
        self.rng = rng
        syllables = ["ba", "co", "de", "fi", "gu", "ha", "jo", "ka", "li", "mo", "nu", "pe", "qu",
                     "ra", "si", "to", "vu", "wa", "xe", "yo", "za", "net", "lib", "dev", "sys",
                     "conf", "ctl", "d", "io", "x"]
        words = set()
        while len(words) < 3000:
            words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))))
        self.words = sorted(words)
        tokens = self.words + ["\n", "=", "#", "{", "}", "0", "1", "/usr/lib", "/etc", "true",
                               "false", "\n\t"]
        weights = [1 / (i + 1) for i in range(len(self.words))]
        total = sum(weights)
        weights += [total / 7, total / 30, total / 40, total / 60, total / 60, total / 30,
                    total / 30, total / 80, total / 80, total / 80, total / 80, total / 20]
        self.tokens = tokens
        self.token_cum = list(_cumulate(weights))
        self.fragments = [rng.randbytes(rng.choice((2, 3, 4, 4, 6, 8, 8, 12, 16, 24, 32, 48)))
                          for _ in range(65536)]
        self.fragment_cum = list(_cumulate(1 / (i + 1) ** 0.8 for i in range(len(self.fragments))))
        self.fragment_avg = sum(map(len, self.fragments)) / len(self.fragments)

    def word(self):
        return self.rng.choice(self.words)

    def text(self, n):
        parts, size = [], 0
        while size < n:
            chunk = " ".join(self.rng.choices(self.tokens, cum_weights=self.token_cum,
                                              k=(n - size) // 5 + 16))
            chunk = chunk.replace("\n ", "\n").replace(" \n", "\n")
            parts.append(chunk)
            size += len(chunk)
        return "".join(parts)[:n].encode()

    def code(self, n):
        """Machine-code-like bytes: each 32 KiB draws from its own 768 fragments of the pool
        (code repeats locally), and 47% of fragments are followed by 4 fresh random bytes (an
        immediate or an address). gzip -9 takes it to about 0.51, zstd -19 and xz to 0.37:
        between libcrypto (0.40, 0.35, 0.32) and a small executable (0.47, 0.44, 0.42)."""
        rng, parts, size = self.rng, [], 0
        per_segment = int(32 * 1024 / (self.fragment_avg + 4 * 120 / 256)) + 1
        while size < n:
            local = rng.choices(self.fragments, cum_weights=self.fragment_cum, k=768)
            picks = rng.choices(local, k=per_segment)
            fresh, flags = rng.randbytes(4 * per_segment), rng.randbytes(per_segment)
            chunk = b"".join(p + fresh[4 * i:4 * i + 4] if flags[i] < 120 else p
                             for i, p in enumerate(picks))
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)[:n]

    def binary(self, n):
        """An executable-like file of n bytes: ELF magic, code, then a string table."""
        header = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + self.rng.randbytes(48)
        strings = self.text(n // 8)
        return (header + self.code(max(0, n - len(header) - len(strings))) + strings)[:n]


def _cumulate(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


def _loguniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def write_chunked(path, size, make_chunk, chunk=8 * MIB):
    """Writes size bytes made by make_chunk(n) in pieces, so a large file never sits in RAM."""
    with open(path, "wb") as f:
        done = 0
        while done < size:
            n = min(chunk, size - done)
            f.write(make_chunk(n))
            done += n


class TreeBuilder:
    """Lays out an old root filesystem tree of about `fill` bytes (apparent sizes)."""

    # Share of `fill` per kind of file. The zero-filled and sparse files take (almost) no
    # blocks in either filesystem.
    SHARES = {"text": 0.10, "binary": 0.48, "large": 0.35, "zero": 0.07}

    def __init__(self, root, fill, rng):
        self.root, self.fill, self.rng = root, fill, rng
        self.c = Content(rng)
        self.files = {"text": [], "binary": [], "large": [], "zero": []}
        self.names = set()

    def path(self, directory, name):
        p = self.root / directory / name
        while p in self.names:
            p = self.root / directory / f"{self.c.word()}-{name}"
        self.names.add(p)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def add(self, kind, directory, name, data=None, size=None, maker=None, mode=0o644):
        p = self.path(directory, name)
        if data is not None:
            p.write_bytes(data)
        else:
            write_chunked(p, size, maker)
        os.chmod(p, mode)
        self.files[kind].append(p)
        return p

    def build(self):
        rng, c, fill = self.rng, self.c, self.fill
        self.root.mkdir(parents=True)
        for d in ["dev", "proc", "sys", "run", "tmp", "mnt", "root", "home", "var/tmp"]:
            (self.root / d).mkdir(parents=True)
        for link, target in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")]:
            os.symlink(target, self.root / link)
        packages = sorted({c.word() for _ in range(max(8, fill // (4 * MIB)))})

        # Text: configuration, init scripts, docs, Python modules.
        self.add("text", "etc", "os-release",
                 data=b'NAME="Updraft Gateway"\nID=updraft-gw\nVERSION_ID="1.0.0"\n'
                      b'BUILD_ID="gw-1.0.0-0001"\nPRETTY_NAME="Updraft Gateway 1.0.0"\n')
        text_dirs = ["etc", "etc/default", "etc/systemd/system", "etc/init.d", "etc/ssl/certs"]
        for pkg in packages:
            text_dirs += [f"usr/share/doc/{pkg}", f"usr/lib/python3/dist-packages/{pkg}",
                          f"etc/{pkg}"]
        used = 0
        while used < fill * self.SHARES["text"]:
            d = rng.choice(text_dirs)
            size = _loguniform(rng, 64, 16 * 1024)
            ext = ".py" if "python3" in d else (".conf" if d.startswith("etc") else "")
            mode = 0o755 if d == "etc/init.d" else 0o644
            self.add("text", d, c.word() + ext, data=c.text(size), mode=mode)
            used += size

        # Binaries: executables, shared libraries, kernel modules.
        used = 0
        budget = fill * self.SHARES["binary"]
        while used < budget:
            size = min(_loguniform(rng, 4 * 1024, 3 * MIB // 2), max(4096, int(budget - used)))
            where = rng.random()
            if where < 0.35:
                d, name, mode = rng.choice(["usr/bin", "usr/sbin"]), c.word(), 0o755
            elif where < 0.75:
                d, name, mode = "usr/lib", f"lib{c.word()}.so.{rng.randint(0, 9)}", 0o644
            elif where < 0.85:
                d, name, mode = f"usr/lib/{rng.choice(packages)}", c.word(), 0o755
            else:
                driver = rng.choice(["net", "usb", "tty", "gpio"])
                d = f"usr/lib/modules/6.1.0-gw/kernel/drivers/{driver}"
                name, mode = f"{c.word()}.ko", 0o644
            self.add("binary", d, name, size=size, maker=c.binary, mode=mode)
            used += size

        # A few large files: a firmware blob and a core library (binary-like), an asset pack
        # that is already compressed (random bytes).
        large = fill * self.SHARES["large"]
        self.add("large", "usr/lib/firmware", f"{c.word()}-modem.bin", size=int(large * 0.40),
                 maker=c.binary)
        self.add("large", "opt/app", "assets.pak", size=int(large * 0.35), maker=rng.randbytes)
        self.add("large", "usr/lib", "libappcore.so.3", size=int(large * 0.25), maker=c.binary)

        # Zero-filled and sparse: a database with data islands, a preallocated file of zeros,
        # and a journal with holes.
        zero = fill * self.SHARES["zero"]

        def islands(n):
            block = bytearray(n)
            for off in range(0, n, 64 * 1024):
                piece = c.code(min(4096, n - off))
                block[off:off + len(piece)] = piece
            return bytes(block)

        self.add("zero", "var/lib/app", "state.db", size=int(zero * 0.4), maker=islands)
        self.add("zero", "var/lib/misc", "prealloc.img", size=int(zero * 0.3), maker=bytes)
        journal = self.path("var/log/journal", "system.journal")
        with open(journal, "wb") as f:
            size = int(zero * 0.3)
            for off in (0, size // 3, size // 2):
                f.seek(off)
                f.write(c.code(min(64 * 1024, size - off)))
            f.truncate(size)
        self.files["zero"].append(journal)
        return self.files


# --- the release ----------------------------------------------------------------------------

def copy_sparse(src, dst):
    """Copies a file keeping its holes (SEEK_DATA/SEEK_HOLE) and its mode."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                break
            hole = os.lseek(fi.fileno(), data, os.SEEK_HOLE)
            fi.seek(data)
            fo.seek(data)
            left = hole - data
            while left:
                buf = fi.read(min(8 * MIB, left))
                fo.write(buf)
                left -= len(buf)
            pos = hole
        fo.truncate(size)
    shutil.copymode(src, dst)


def make_release(old_root, new_root, files, rng):
    """Copies the old tree to new_root and changes it as a firmware release would.
    Returns a list of the changes, one line each."""
    shutil.copytree(old_root, new_root, symlinks=True, copy_function=copy_sparse)
    c = Content(rng)
    changes = []

    def new_path(p):
        return new_root / p.relative_to(old_root)

    osr = new_path(files["text"][0])
    osr.write_bytes(osr.read_bytes().replace(b"1.0.0", b"1.1.0").replace(b"0001", b"0002"))
    changes.append(f"edited {osr.relative_to(new_root)}: version 1.0.0 -> 1.1.0")

    texts = rng.sample(files["text"][1:], min(6, len(files["text"]) - 1))
    for p in texts:
        q = new_path(p)
        lines = q.read_bytes().split(b"\n")
        i = rng.randrange(len(lines))
        lines[i] = c.text(rng.randint(20, 80))
        lines[rng.randrange(len(lines)):0] = c.text(rng.randint(40, 400)).split(b"\n")
        if len(lines) > 2:
            del lines[rng.randrange(len(lines))]
        q.write_bytes(b"\n".join(lines))
        changes.append(f"edited {q.relative_to(new_root)}: a line replaced, lines added, a line removed")

    candidates = [p for p in files["binary"] if p.stat().st_size >= 64 * 1024]
    patched = rng.sample(candidates, min(4, len(candidates)))
    for n, p in enumerate(patched):
        q = new_path(p)
        data = bytearray(q.read_bytes())
        regions = rng.randint(8, 32)
        for _ in range(regions):
            off = rng.randrange(len(data) - 16)
            length = rng.randint(1, 16)
            data[off:off + length] = rng.randbytes(length)
        what = f"{regions} regions of 1-16 bytes changed"
        if n == 0:
            mid = len(data) // 2
            data[mid:mid] = c.code(4096)
            what += ", 4 KiB inserted in the middle"
        q.write_bytes(bytes(data))
        changes.append(f"patched {q.relative_to(new_root)} ({len(data):,} B): {what}")

    blob = new_path(files["large"][0])
    size = blob.stat().st_size
    with open(blob, "r+b") as f:
        for _ in range(16):
            f.seek(rng.randrange(size - 64))
            f.write(rng.randbytes(rng.randint(4, 64)))
    changes.append(f"patched {blob.relative_to(new_root)} ({size:,} B): 16 regions of 4-64 bytes")

    added = new_root / "usr/bin" / "gw-telemetryd"
    added.write_bytes(c.binary(5 * MIB + rng.randrange(64 * 1024)))
    os.chmod(added, 0o755)
    changes.append(f"added {added.relative_to(new_root)} ({added.stat().st_size:,} B, executable-like)")

    spare_bins = [p for p in files["binary"] if p not in patched]
    spare_texts = [p for p in files["text"][1:] if p not in texts]
    for p in [rng.choice(spare_bins), rng.choice(spare_texts)]:
        q = new_path(p)
        changes.append(f"deleted {q.relative_to(new_root)} ({q.stat().st_size:,} B)")
        q.unlink()
    return changes


def tree_stats(root):
    files = apparent = 0
    for d, _, names in os.walk(root):
        for name in names:
            p = os.path.join(d, name)
            if not os.path.islink(p):
                files += 1
                apparent += os.path.getsize(p)
    return {"files": files, "bytes": apparent}


def all_entries(root):
    """Every path in the tree, the root first, as paths relative to it."""
    yield Path(".")
    for d, dirs, names in os.walk(root):
        for name in dirs + names:
            yield (Path(d) / name).relative_to(root)


def fix_times(root, epoch):
    for rel in all_entries(root):
        os.utime(root / rel, (epoch, epoch), follow_symlinks=False)


# --- images ---------------------------------------------------------------------------------

def run_checked(argv, env=None):
    proc = subprocess.run([str(a) for a in argv], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout).strip()[-2000:]}")
    return proc


def build_ext4(tree, image, size, epoch):
    """mkfs.ext4 -d with everything that would differ between runs pinned.

    mke2fs takes atime, mtime and ctime from the tree; the tree's ctime cannot be set and its
    atime moves as mke2fs reads it, so debugfs then sets all three, and uid/gid 0, on every
    inode it wrote. E2FSPROGS_FAKE_TIME pins the superblock's times and crtime; newer
    e2fsprogs read SOURCE_DATE_EPOCH too.
    """
    fix_times(tree, epoch)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), E2FSPROGS_FAKE_TIME=str(epoch))
    image.unlink(missing_ok=True)
    with open(image, "wb") as f:
        f.truncate(size)
    run_checked(["mkfs.ext4", "-q", "-F", "-b", "4096", "-L", "rootfs", "-U", EXT4_UUID,
                 "-E", f"hash_seed={EXT4_HASH_SEED},root_owner=0:0,nodiscard",
                 "-d", tree, image], env=env)
    cmds = []
    for rel in all_entries(tree):
        p = "/" + rel.as_posix() if str(rel) != "." else "/"
        for field, value in [("atime", f"@{epoch}"), ("mtime", f"@{epoch}"),
                             ("ctime", f"@{epoch}"), ("uid", "0"), ("gid", "0")]:
            cmds.append(f"set_inode_field {p} {field} {value}")
    cmd_file = image.with_suffix(".debugfs")
    cmd_file.write_text("\n".join(cmds) + "\n")
    out = run_checked(["debugfs", "-w", "-f", cmd_file, image], env=env)
    cmd_file.unlink()
    errors = [line for line in out.stderr.splitlines() if line and not line.startswith("debugfs ")]
    if errors:
        raise RuntimeError(f"debugfs on {image.name}: {errors[:5]}")
    run_checked(["e2fsck", "-fn", image], env=env)


def build_squashfs(tree, image, epoch, comp):
    fix_times(tree, epoch)
    # mksquashfs refuses SOURCE_DATE_EPOCH together with -mkfs-time/-all-time.
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    image.unlink(missing_ok=True)
    run_checked(["mksquashfs", tree, image, "-noappend", "-comp", comp, "-all-root",
                 "-mkfs-time", str(epoch), "-all-time", str(epoch), "-no-xattrs", "-quiet",
                 "-no-progress"], env=env)


def squashfs_fill(target, seed, workdir, epoch, comp):
    """Tree bytes for a squashfs image of about `target` bytes: measured on a 16 MiB sample
    tree of the same mix, aiming at 95% of target so the image stays at or under it."""
    sample = workdir / "calibrate"
    tree = sample / "tree"
    TreeBuilder(tree, 16 * MIB, random.Random(f"{seed}-calibrate")).build()
    image = sample / "sample.sqfs"
    build_squashfs(tree, image, epoch, comp)
    ratio = image.stat().st_size / tree_stats(tree)["bytes"]
    shutil.rmtree(sample)
    return int(target * 0.95 / ratio), ratio


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MIB):
            h.update(chunk)
    return h.hexdigest()


def build_pair(kind, size_mib, seed, pair_dir, epoch, comp):
    """Generates the old and new trees and their images. Returns (Pair, info dict)."""
    label = f"{kind} {size_mib} MiB"
    target = size_mib * MIB
    info = {"kind": kind, "size_mib": size_mib}
    if kind == "ext4":
        fill = int(target * 0.60)
    else:
        progress(f"[{label}] calibrating the tree size on a 16 MiB sample ({comp})")
        fill, ratio = squashfs_fill(target, seed, pair_dir, epoch, comp)
        info["squashfs_sample_ratio"] = round(ratio, 4)
    info["tree_fill_bytes"] = fill
    rng = random.Random(f"{seed}-{kind}-{size_mib}")
    old_tree, new_tree = pair_dir / "old", pair_dir / "new"
    progress(f"[{label}] generating the old tree ({fill / MIB:.0f} MiB of files)")
    files = TreeBuilder(old_tree, fill, rng).build()
    progress(f"[{label}] deriving the new tree (the release)")
    info["changes"] = make_release(old_tree, new_tree, files, rng)
    info["old_tree"], info["new_tree"] = tree_stats(old_tree), tree_stats(new_tree)
    ext = "ext4" if kind == "ext4" else "sqfs"
    pair = Pair(f"{kind}-{size_mib}MiB", pair_dir / f"old.{ext}", pair_dir / f"new.{ext}")
    for tree, image in [(old_tree, pair.old), (new_tree, pair.new)]:
        progress(f"[{label}] building {image.name}")
        if kind == "ext4":
            build_ext4(tree, image, target, epoch)
        else:
            build_squashfs(tree, image, epoch, comp)
    info["old_bytes"], info["new_bytes"] = pair.old.stat().st_size, pair.new.stat().st_size
    info["old_sha256"], info["new_sha256"] = sha256(pair.old), sha256(pair.new)
    if kind == "squashfs":
        info["squashfs_comp"] = comp
    return pair, info, (old_tree, new_tree)


# --- tools ----------------------------------------------------------------------------------

def xdelta3_window(pair):
    # Source window (-B) covering the whole old image, as a power of two; xdelta3 allows
    # 2 GiB at most. The decoder gets the same window.
    return min(1 << 31, max(64 * MIB, 1 << (pair.old.stat().st_size - 1).bit_length()))


# --long=31 is a 2 GiB window. zstd's manual asks for --long=31 or --memory on the decoder
# for a window above 128 MiB, and --memory also caps a --patch-from dictionary (128 MiB by
# default), so both sides get both. (zstd 1.5.4 raised both limits itself for --patch-from.)
ZSTD_MEMORY = "--memory=2048MB"

PEERS = [
    Tool("zstd",
         diff=lambda pair, patch: ["zstd", "-q", "-f", f"--patch-from={pair.old}", "--long=31", "-19",
                                   "-T0", ZSTD_MEMORY, pair.new, "-o", patch],
         apply=lambda pair, patch, out: ["zstd", "-q", "-d", "-f", f"--patch-from={pair.old}",
                                         "--long=31", ZSTD_MEMORY, patch, "-o", out]),
    Tool("xdelta3",
         diff=lambda pair, patch: ["xdelta3", "-e", "-9", "-S", "djw", "-B", xdelta3_window(pair), "-f",
                                   "-s", pair.old, pair.new, patch],
         apply=lambda pair, patch, out: ["xdelta3", "-d", "-B", xdelta3_window(pair), "-f",
                                         "-s", pair.old, patch, out]),
    Tool("bsdiff",
         diff=lambda pair, patch: ["bsdiff", pair.old, pair.new, patch],
         apply=lambda pair, patch, out: ["bspatch", pair.old, out, patch]),
]
PEER_PROGRAMS = {"zstd": ["zstd"], "xdelta3": ["xdelta3"], "bsdiff": ["bsdiff", "bspatch"]}


class ToolTimedOut(ToolFailed):
    """A diff or apply still running at --timeout, then killed. It fails the run for Updraft;
    for a peer it is that peer's result (bsdiff on ext4 images, for one)."""


def child_hwm_kib(pid):
    """Peak RSS so far (VmHWM) of the processes GNU time started; 0 if it cannot be read."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        best = 0
        for child in children:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        return best
    except (OSError, ValueError):
        return 0


def run_measured(argv, scratch, timeout, label):
    """Runs argv under GNU time; returns (wall seconds, peak RSS KiB). Raises ToolFailed on a
    non-zero exit or when it runs past `timeout` seconds (then its whole process group is
    killed). Unlike delta_bench.run_measured it has a time limit and reports progress, since a
    rootfs diff can run for many minutes."""
    rss_file = scratch / "time.out"
    rss_file.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", str(rss_file), "--", *map(str, argv)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    hwm = 0
    try:
        while True:
            elapsed = time.perf_counter() - start
            try:
                _, err = proc.communicate(timeout=max(0.1, min(HEARTBEAT_S, timeout - elapsed)))
                break
            except subprocess.TimeoutExpired:
                elapsed = time.perf_counter() - start
                hwm = max(hwm, child_hwm_kib(proc.pid))
                if elapsed >= timeout:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.communicate()
                    raise ToolTimedOut(f"did not finish in {elapsed:.0f} s, killed; "
                                       f"peak RSS so far {hwm / 1024:,.0f} MiB")
                progress(f"    {label}: still running, {elapsed:.0f} s, peak RSS {hwm / 1024:,.0f} MiB")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise ToolFailed(f"{' '.join(map(str, argv))} exited {proc.returncode}: {err.strip()[-2000:]}")
    return seconds, int(rss_file.read_text().split()[-1])


def measure(tool, pair, scratch, timeout, keep):
    patch = scratch / f"{pair.name}.{tool.name}.patch"
    out = scratch / f"{pair.name}.{tool.name}.out"
    try:
        progress(f"[{pair.name}] {tool.name}: diff")
        diff_s, diff_rss = run_measured(tool.diff(pair, patch), scratch, timeout, f"{tool.name} diff")
        progress(f"[{pair.name}] {tool.name}: diff took {diff_s:.1f} s, "
                 f"patch {patch.stat().st_size:,} B; apply")
        apply_s, apply_rss = run_measured(tool.apply(pair, patch, out), scratch, timeout,
                                          f"{tool.name} apply")
        if not filecmp.cmp(out, pair.new, shallow=False):
            raise ToolFailed(f"applied output differs from {pair.new.name}")
        return {"patch_bytes": patch.stat().st_size, "diff_seconds": diff_s, "diff_rss_kib": diff_rss,
                "apply_seconds": apply_s, "apply_rss_kib": apply_rss}
    finally:
        out.unlink(missing_ok=True)
        if not keep:
            patch.unlink(missing_ok=True)


def image_bytes(info):
    """The image size the rates and the RSS target use: the larger of old and new."""
    return max(info["old_bytes"], info["new_bytes"])


def add_derived(info, results):
    """Ratios to zstd, MiB/s, and Updraft's targets, into the result dicts."""
    size = image_bytes(info)
    zstd = results.get("zstd")
    zstd_bytes = zstd["patch_bytes"] if isinstance(zstd, dict) and "patch_bytes" in zstd else None
    for name, r in results.items():
        if "patch_bytes" not in r:
            continue
        r["vs_zstd"] = r["patch_bytes"] / zstd_bytes if zstd_bytes else None
        r["diff_mib_s"] = size / MIB / r["diff_seconds"]
        if name.startswith("updraft"):
            rss_limit = size / MIB + TARGET_RSS_OVER_IMAGE_MIB
            r["targets"] = {
                "diff_mib_s": {"value": r["diff_mib_s"], "target": f">= {TARGET_MIB_S}",
                               "met": r["diff_mib_s"] >= TARGET_MIB_S},
                "diff_rss_mib": {"value": r["diff_rss_kib"] / 1024, "target": f"<= {rss_limit:.0f}",
                                 "met": r["diff_rss_kib"] / 1024 <= rss_limit},
                "patch_vs_zstd": {"value": r["vs_zstd"], "target": f"<= {TARGET_PATCH_VS_ZSTD}",
                                  "met": None if r["vs_zstd"] is None
                                  else r["vs_zstd"] <= TARGET_PATCH_VS_ZSTD},
            }


# --- report ---------------------------------------------------------------------------------

def targets_cell(r):
    if "targets" not in r:
        return ""
    return "/".join("-" if t["met"] is None else ("met" if t["met"] else "MISSED")
                    for t in r["targets"].values())


COLUMNS = [
    ("patch B", lambda r: f"{r['patch_bytes']:,}"),
    ("x zstd", lambda r: "-" if r["vs_zstd"] is None else f"{r['vs_zstd']:.3f}"),
    ("diff s", lambda r: f"{r['diff_seconds']:.1f}"),
    ("MiB/s", lambda r: f"{r['diff_mib_s']:.1f}"),
    ("diff RSS MiB", lambda r: f"{r['diff_rss_kib'] / 1024:,.0f}"),
    ("apply s", lambda r: f"{r['apply_seconds']:.1f}"),
    ("apply RSS MiB", lambda r: f"{r['apply_rss_kib'] / 1024:,.0f}"),
    ("targets speed/RSS/size", targets_cell),
]


def format_table(pair, info, results):
    old, new = info["old_tree"], info["new_tree"]
    title = (f"{pair.name}: old {info['old_bytes']:,} B -> new {info['new_bytes']:,} B "
             f"(trees {old['bytes'] / MIB:.0f} -> {new['bytes'] / MIB:.0f} MiB "
             f"in {old['files']:,} -> {new['files']:,} files)")
    headers = ["tool"] + [h for h, _ in COLUMNS]
    table = []
    for tool, r in results.items():
        if "patch_bytes" in r:
            table.append([tool] + [f(r) for _, f in COLUMNS])
        elif "skipped" in r:
            table.append([tool, f"skipped: {r['skipped']}"])
        elif "timed_out" in r:
            table.append([tool, f"TIMED OUT: {r['timed_out']}"])
        else:
            table.append([tool, f"FAILED: {r['failed']}"])
    full = [headers] + [row for row in table if len(row) == len(headers)]
    widths = [max(len(row[0]) for row in [headers] + table)]
    widths += [max(len(row[i]) for row in full) for i in range(1, len(headers))]
    lines = [title]
    for row in [headers] + table:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
    for tool, r in results.items():
        if "targets" in r:
            t = r["targets"]
            lines.append(
                f"  {tool} targets: diff {t['diff_mib_s']['value']:.1f} MiB/s "
                f"{t['diff_mib_s']['target']}; "
                f"RSS {t['diff_rss_mib']['value']:,.0f} MiB {t['diff_rss_mib']['target']} (image + "
                f"{TARGET_RSS_OVER_IMAGE_MIB}); patch "
                + ("-" if t["patch_vs_zstd"]["value"] is None else f"{t['patch_vs_zstd']['value']:.3f}x")
                + f" zstd's {t['patch_vs_zstd']['target']}")
    return "\n".join(lines)


def parse_list(text, allowed=None):
    items = [s.strip() for s in text.split(",") if s.strip()]
    if allowed:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)} "
                                             f"(choose from {', '.join(allowed)})")
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updraft", type=Path, default=REPO / "build/release/cli/updraft")
    ap.add_argument("--sizes", default="64,256",
                    help="image sizes in MiB, at least 32 (default: %(default)s)")
    ap.add_argument("--kinds", default=",".join(KINDS),
                    help="ext4, squashfs or both (default: %(default)s)")
    ap.add_argument("--seed", default="19", help="PRNG seed for the trees (default: %(default)s)")
    ap.add_argument("--squashfs-comp", default="gzip", help="mksquashfs -comp (default: %(default)s)")
    ap.add_argument("--bsdiff-max-mb", type=int, default=256,
                    help="skip bsdiff on images larger than this many MiB (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds an Updraft diff or apply may run before it is killed and the "
                         "run fails (default: %(default)s)")
    ap.add_argument("--peer-timeout", type=float,
                    help="seconds a peer's diff or apply may run before it is killed and reported "
                         "as timed out (default: --timeout)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()),
                    help="where the run's temp directory goes (default: %(default)s)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp directory (trees, images, patches)")
    ap.add_argument("--json", type=Path, help="also write results here")
    args = ap.parse_args()
    try:
        sizes = [int(s) for s in parse_list(args.sizes)]
        kinds = parse_list(args.kinds, KINDS)
    except (ValueError, argparse.ArgumentTypeError) as e:
        ap.error(str(e))
    if not sizes or not kinds or min(sizes) < 32:
        ap.error("--sizes needs sizes of at least 32 MiB (the new tree adds 5 MiB) "
                 "and --kinds at least one kind")
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    if args.peer_timeout is None:
        args.peer_timeout = args.timeout

    needed = [GNU_TIME, str(args.updraft)]
    needed += ["mkfs.ext4", "debugfs", "e2fsck"] if "ext4" in kinds else []
    needed += ["mksquashfs"] if "squashfs" in kinds else []
    missing = [p for p in needed if not shutil.which(p)]
    if missing:
        sys.exit(f"rootfs_bench: missing {', '.join(missing)} (build Updraft, run scripts/setup.sh)")
    tools = [updraft_tool(str(args.updraft), "linux")] + PEERS
    absent = {t.name for t in PEERS if not all(shutil.which(p) for p in PEER_PROGRAMS[t.name])}

    def write_json():
        """Written after every pair too, so a long run that is stopped keeps what it measured."""
        if args.json:
            args.json.write_text(json.dumps({
                "updraft": str(args.updraft), "seed": args.seed, "epoch": epoch,
                "timeout": args.timeout, "peer_timeout": args.peer_timeout,
                "targets": {"diff_mib_s": TARGET_MIB_S, "rss_over_image_mib": TARGET_RSS_OVER_IMAGE_MIB,
                            "patch_vs_zstd": TARGET_PATCH_VS_ZSTD},
                "pairs": [info for _, info, _ in pairs]}, indent=2) + "\n")

    run_dir = Path(tempfile.mkdtemp(prefix="rootfs_bench.", dir=args.workdir))
    progress(f"rootfs_bench: working in {run_dir}")
    pairs, failures = [], 0
    try:
        for size in sizes:
            for kind in kinds:
                pair_dir = run_dir / f"{kind}-{size}"
                pair_dir.mkdir()
                try:
                    pair, info, trees = build_pair(kind, size, args.seed, pair_dir, epoch,
                                                   args.squashfs_comp)
                except (RuntimeError, OSError) as e:
                    failures += 1
                    progress(f"rootfs_bench: FAILED building the {kind} {size} MiB pair: {e}")
                    pairs.append((None, {"kind": kind, "size_mib": size, "failed": str(e)}, {}))
                    continue
                if not args.keep:
                    for tree in trees:
                        shutil.rmtree(tree)
                results = {}
                for tool in tools:
                    if tool.name in absent:
                        results[tool.name] = {"skipped": "not installed"}
                    elif tool.name == "bsdiff" and image_bytes(info) > args.bsdiff_max_mb * MIB:
                        results[tool.name] = {"skipped": f"image {image_bytes(info) / MIB:.0f} MiB > "
                                                         f"--bsdiff-max-mb {args.bsdiff_max_mb} "
                                                         "(bsdiff needs ~17x the image in RAM)"}
                    else:
                        try:
                            updraft = tool.name.startswith("updraft")
                            timeout = args.timeout if updraft else args.peer_timeout
                            results[tool.name] = measure(tool, pair, pair_dir, timeout, args.keep)
                        except ToolTimedOut as e:
                            progress(f"rootfs_bench: {tool.name} on {pair.name}: {e}")
                            results[tool.name] = {"timed_out": str(e)}
                            failures += tool.name.startswith("updraft")
                        except ToolFailed as e:
                            failures += 1
                            progress(f"rootfs_bench: FAILED {tool.name} on {pair.name}: {e}")
                            results[tool.name] = {"failed": str(e)}
                    if "skipped" in results[tool.name]:
                        progress(f"[{pair.name}] {tool.name}: skipped ({results[tool.name]['skipped']})")
                add_derived(info, results)
                info["results"] = results
                pairs.append((pair, info, results))
                print(format_table(pair, info, results) + "\n", flush=True)
                write_json()
                if not args.keep:
                    for image in (pair.old, pair.new):
                        image.unlink()
    finally:
        if args.keep:
            progress(f"rootfs_bench: kept {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)

    write_json()
    if failures:
        print(f"rootfs_bench: {failures} step(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
