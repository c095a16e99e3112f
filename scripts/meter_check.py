#!/usr/bin/env python3
"""The water meter check: the whole agent on an emulated Cortex-M0 against a real updraftd.

Run through scripts/meter_check.sh, which builds what it needs first. See
docs/agent-mcu.md. What runs:

  updraftd (fresh data dir, ECDSA P-256 keys, CoAP on 127.0.0.1:0)
    <- UDP -> updraft-modem (--rate, --loss: the NB-IoT air, counted)
    <- SLIP on TCP -> qemu-system-arm -M microbit (the meter firmware's UART)

Each meter is a folder holding its emulated NOR flash (meter-flash.bin) and its
provisioning page, both written by updraft-meter-provision. QEMU runs in that
folder; when the firmware exits with 64 (a reboot) QEMU is started again on the
same flash, and a power cut is a SIGKILL followed by a start.

Scenarios, each with its own device, campaign and modem (so the modem's counters
are that update's bytes on air):
  delta     the old release -> the new one as a patch, at --rate (5000 bit/s)
  full      a meter whose image the server does not know gets the full image, at
            --full-rate (40000 bit/s); its time at 5000 bit/s is then estimated from
            its bytes on air, and says so (--full-rate 5000 measures it)
  rollback  (--rollback) the trial's health check fails: the meter reports the
            rollback and boots the old image again
  cuts      (--power-cuts N) the delta again, with N power cuts at seeded random
            moments; each time the update must resume and complete, and at most one
            block may be fetched twice
Exits 0 when every check passed, 1 on a failure, 77 when something it needs is missing.
"""

import argparse
import hashlib
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METER_MAP = os.path.join(ROOT, "agent/cortex_m/meter/meter_map.h")
RAM_BYTES = 16 * 1024
FLASH_LIMIT = 48 * 1024  # the agent's share of a 192 KB meter (nrf51822.ld)
BLOCK = 1024  # the meter's CoAP block size (meter.cpp)
RATIO_TARGET = 1.10  # bytes on air per byte of the patch (issue 13)
EXIT_DONE, EXIT_REBOOT, EXIT_GAVE_UP = 0, 64, 65
PRODUCT, HARDWARE = "meter", "nrf51822-meter"
OLD_VERSION, NEW_VERSION, UNKNOWN_VERSION = "1.0.0", "1.1.0", "0.9.0"


class CheckFailed(Exception):
    pass


CURRENT = None  # the update under way, whose lines a quiet run prints when it fails


def log(text):
    print(text, flush=True)


def check(condition, what):
    if not condition:
        raise CheckFailed(what)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def slot_capacity():
    """kImageCapacity from meter_map.h, so the images fit the firmware's slots."""
    text = open(METER_MAP).read()
    m = re.search(r"kImageCapacity = (\d+) \* 1024;", text)
    check(m is not None, "kImageCapacity not found in " + METER_MAP)
    return int(m.group(1)) * 1024


# ---------------------------------------------------------------- images


def corpus_images(corpus, old, new, size):
    """The first `size` bytes of two consecutive corpus versions, as agent/cortex_m does."""
    paths = [os.path.join(corpus, "public", f"esp8266-at-v{v}.bin") for v in (old, new, old - 1)]
    if not all(os.path.exists(p) for p in paths[:2]):
        return None
    images = [open(p, "rb").read()[:size] for p in paths[:2]]
    # The "unknown" image of the full-image meter: an older build nobody uploaded.
    unknown = open(paths[2], "rb").read()[:size] if os.path.exists(paths[2]) else None
    return images[0], images[1], unknown, f"esp8266-at-v{old} -> v{new}, first {size} B of each"


def generated_images(size):
    """Firmware-like images without a corpus: code words from a small vocabulary,
    literal pools and strings; the new one has scattered edits and an insertion."""
    rng = random.Random(20240613)
    vocab = [rng.randbytes(4) for _ in range(300)]
    out = bytearray()
    while len(out) < size:
        kind = rng.random()
        if kind < 0.8:
            out += b"".join(rng.choice(vocab) for _ in range(rng.randint(4, 40)))
        elif kind < 0.9:
            out += rng.randbytes(rng.randint(8, 64))
        else:
            out += (b"meter firmware %d " % rng.randint(0, 9999)) * rng.randint(1, 3)
    old = bytes(out[:size])
    new = bytearray(old)
    for _ in range(250):
        at = rng.randrange(0, size - 64)
        new[at:at + rng.randint(1, 24)] = rng.randbytes(rng.randint(1, 24))
    at = size // 3
    new[at:at] = rng.randbytes(600)
    unknown = bytearray(old)
    unknown[size // 2:size // 2 + 4096] = rng.randbytes(4096)
    return old, bytes(new[:size]), bytes(unknown), f"generated firmware-like images of {size} B"


# ---------------------------------------------------------------- processes


class Tools:
    def __init__(self, host_build, firmware):
        host_build, firmware = os.path.abspath(host_build), os.path.abspath(firmware)
        self.updraftd = os.path.join(host_build, "server/updraftd")
        self.updraft = os.path.join(host_build, "cli/updraft")
        self.modem = os.path.join(host_build, "sim/modem/updraft-modem")
        self.provision = os.path.join(host_build, "agent/cortex_m/meter/host/updraft-meter-provision")
        self.firmware = firmware
        self.qemu = shutil.which("qemu-system-arm")

    def missing(self):
        wanted = [self.updraftd, self.updraft, self.modem, self.provision, self.firmware]
        return [p for p in wanted if not os.path.exists(p)] + ([] if self.qemu else ["qemu-system-arm"])


class Server:
    """updraftd with a fresh data directory, ECDSA P-256 keys and a CoAP listener."""

    def __init__(self, tools, work):
        self.tools = tools
        self.data = os.path.join(work, "updraftd-data")
        os.makedirs(self.data)
        help_text = subprocess.run([tools.updraftd, "--help"], capture_output=True, text=True).stdout
        args = []
        if "--key-algorithm" in help_text:
            args = ["--key-algorithm", "ecdsa-p256"]
            self.keys = "updraftd --key-algorithm ecdsa-p256"
        else:
            # An updraftd without the option keeps keys it finds (ServerKeys::load_or_create).
            self.make_p256_keys(os.path.join(self.data, "keys"))
            self.keys = "ECDSA P-256 keys made with `updraft keygen`/`updraft root create` " \
                        "(this updraftd has no --key-algorithm)"
        self.log_path = os.path.join(work, "updraftd.log")
        port_file = os.path.join(work, "updraftd.port")
        self.process = subprocess.Popen(
            [tools.updraftd, "--data", self.data, "--port", "0", "--port-file", port_file,
             "--coap-listen", "127.0.0.1:0", "--tick-ms", "200"] + args,
            stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        self.coap_port = None
        while time.time() < deadline and self.coap_port is None:
            time.sleep(0.1)
            m = re.search(r"CoAP on coap://127\.0\.0\.1:(\d+)", open(self.log_path).read())
            if m and os.path.exists(port_file) and open(port_file).read().strip():
                self.coap_port = int(m.group(1))
                self.http_port = int(open(port_file).read())
        check(self.coap_port is not None, "updraftd did not start; see " + self.log_path)
        self.env = dict(os.environ, UPDRAFT_SERVER=f"http://127.0.0.1:{self.http_port}",
                        UPDRAFT_TOKEN_FILE=os.path.join(self.data, "admin.token"))

    def make_p256_keys(self, keys):
        os.makedirs(keys)
        for name in ("root", "release"):
            subprocess.run([self.tools.updraft, "keygen", "--algorithm", "p256", "-o",
                            os.path.join(keys, name)], check=True, capture_output=True)
        subprocess.run([self.tools.updraft, "root", "create", "--version", "1",
                        "--root-key", os.path.join(keys, "root.pub"),
                        "--release-key", os.path.join(keys, "release.pub"),
                        "-o", os.path.join(keys, "root.bin"), "--key", os.path.join(keys, "root.key")],
                       check=True, capture_output=True)

    def cli(self, *args):
        r = subprocess.run([self.tools.updraft, *args], capture_output=True, text=True, env=self.env)
        check(r.returncode == 0, f"updraft {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
        return r.stdout

    def device(self, device_id):
        for d in json.loads(self.cli("devices", "--json"))["devices"]:
            if d["id"] == device_id:
                return d
        raise CheckFailed("updraftd does not list " + device_id)

    def trusted_root(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/api/v1/trust/root") as r:
            return r.read()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Modem:
    """updraft-modem for one update: its counters are that update's bytes on air."""

    def __init__(self, tools, work, name, server_port, rate, loss, seed):
        self.rate = rate
        port_file = os.path.join(work, name + ".uart-port")
        self.stats_path = os.path.join(work, name + ".modem.json")
        self.log_path = os.path.join(work, name + ".modem.log")
        self.process = subprocess.Popen(
            [tools.modem, "--uart-port-file", port_file, "--server", f"127.0.0.1:{server_port}",
             "--rate", str(rate), "--loss", str(loss), "--seed", str(seed), "--stats", self.stats_path],
            stdout=subprocess.PIPE, stderr=open(self.log_path, "w"), text=True)
        deadline = time.time() + 10
        while time.time() < deadline and not (os.path.exists(port_file) and open(port_file).read().strip()):
            time.sleep(0.05)
        check(os.path.exists(port_file), "updraft-modem did not start; see " + self.log_path)
        self.uart_port = int(open(port_file).read())

    def stop(self):
        """Stops the modem and returns its final counters."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=10)
        lines = [l for l in out.splitlines() if l.startswith("{")]
        check(lines, "updraft-modem printed no counters; see " + self.log_path)
        return json.loads(lines[-1])


class Meter:
    """One emulated meter: a folder with its flash and provisioning page."""

    def __init__(self, tools, work, device_id):
        self.tools = tools
        self.id = device_id
        self.secret = f"{device_id}-secret-0123456789"
        self.dir = os.path.join(work, device_id)
        os.makedirs(self.dir)
        self.flash_path = os.path.join(self.dir, "meter-flash.bin")
        self.slot_b = None

    def provision(self, image, version, root_path):
        image_path = os.path.join(self.dir, "factory.bin")
        open(image_path, "wb").write(image)
        r = subprocess.run(
            [self.tools.provision, "--flash", self.flash_path, "--image", image_path, "--version",
             version, "--security-counter", "1", "--page", os.path.join(self.dir, "meter-provision.bin"),
             "--device-id", self.id, "--secret", self.secret, "--product", PRODUCT, "--hardware",
             HARDWARE, "--root", root_path], capture_output=True, text=True)
        check(r.returncode == 0, "updraft-meter-provision: " + r.stderr.strip())
        self.slot_b = int(re.search(r"slot B at (\d+)", r.stdout).group(1))

    def slot_hash(self, slot_offset, size):
        with open(self.flash_path, "rb") as f:
            f.seek(slot_offset)
            return sha256(f.read(size))

    # A power cut is only for the download and the install: one that hits a trial
    # boot before it confirms makes the boot logic revert it, by design (a rollback).
    CUT_WINDOW_ENDS = ("(trial)", "report: verifying")

    def run(self, uart_port, cut_after=None, timeout=120):
        """Starts QEMU (a reset) and returns (exit status or "cut", [(host time, line)],
        seconds it ran).
        With cut_after, kills it after that many seconds (a power cut), unless the run
        has reached a trial boot or the install's verification by then."""
        qemu = subprocess.Popen(
            [self.tools.qemu, "-M", "microbit", "-display", "none", "-monitor", "none",
             "-serial", f"tcp:127.0.0.1:{uart_port}",
             "-semihosting-config", "enable=on,target=native", "-kernel", self.tools.firmware,
             "-device", "loader,file=meter-provision.bin,addr=0x3f000,force-raw=on"],
            cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        lines = queue.Queue()

        def read():
            for line in qemu.stdout:
                lines.put((time.time(), line.rstrip("\n")))
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        started = time.time()
        out = []
        while True:
            wait = None
            if cut_after is not None:
                wait = max(0.0, started + cut_after - time.time())
            try:
                item = lines.get(timeout=wait if wait is not None else timeout)
            except queue.Empty:
                if cut_after is not None:
                    qemu.kill()  # SIGKILL: the power goes, the flash file stays as it is
                    qemu.wait()
                    return "cut", out, time.time() - started
                qemu.kill()
                raise CheckFailed(f"{self.id}: QEMU ran {timeout} s without a word")
            if item is None:
                break
            out.append(item)
            if cut_after is not None and any(w in item[1] for w in self.CUT_WINDOW_ENDS):
                cut_after = None
        return qemu.wait(), out, time.time() - started


# ---------------------------------------------------------------- one update


class Update:
    """The outcome of one campaign on one meter."""

    def __init__(self, name):
        self.name = name
        self.runs = []  # (exit, [(t, line)], seconds)
        self.start = None
        self.end = None
        self.air = None
        self.artifact_kind = None
        self.artifact_size = None
        self.cut_reports = []

    def lines(self):
        return [l for _, out, _ in self.runs for _, l in out]

    def link_bytes(self):
        """Bytes the meter's CoAP client counted: blocks (up, down), other (up, down)."""
        total = [0, 0, 0, 0]
        for line in self.lines():
            m = re.search(r"blocks \d+: up (\d+) B, down (\d+) B; other: up (\d+) B, down (\d+) B", line)
            if m:
                total = [a + int(b) for a, b in zip(total, m.groups())]
        return total

    def stack_peaks(self):
        return [(int(m.group(1)), int(m.group(2))) for m in
                (re.search(r"stack peak (\d+) of (\d+) B", l) for l in self.lines()) if m]


def run_update(server, meter, modem, release_id, expect_kind, unhealthy=False, cuts=None,
               echo=True, max_wakeups=20):
    name = meter.id
    flag = os.path.join(meter.dir, "meter-unhealthy")
    if unhealthy:
        open(flag, "w").close()
    out = server.cli("campaign", "create", "--release", str(release_id), "--name", "update " + name,
                     "--device", meter.id, "--force", "--start")
    campaign = int(re.search(r"campaign (\d+)", out).group(1))
    # Wait until the scheduler has released the deployment, so the first wake-up gets it.
    deadline = time.time() + 10
    while time.time() < deadline:
        dep = server.device(meter.id).get("deployment")
        if dep and dep.get("state") == "pending":
            break
        time.sleep(0.1)
    global CURRENT
    update = CURRENT = Update(name)
    update.start = time.time()
    cuts = list(cuts or [])
    wakeups = 0
    while True:
        cut = cuts.pop(0) if cuts else None
        code, lines, seconds = meter.run(modem.uart_port, cut_after=cut)
        update.runs.append((code, lines, seconds))
        if echo:
            for t, line in lines:
                log(f"  [{t - update.start:7.2f}] {line}")
            log(f"  [{time.time() - update.start:7.2f}] " +
                ("-- power cut (QEMU killed)" if code == "cut" else f"-- QEMU exit {code}"))
        text = [l for _, l in lines]
        if code == "cut" or code == EXIT_REBOOT:
            continue
        done = any("report: success" in l or "report: rolled_back" in l for l in text) and \
            any("after boot" in l for l in text)
        if code == EXIT_DONE and done:
            break
        check(code in (EXIT_DONE, EXIT_GAVE_UP), f"{name}: the meter exited with {code}")
        wakeups += 1
        check(wakeups <= max_wakeups, f"{name}: no outcome after {max_wakeups} wake-ups")
        time.sleep(0.5)  # the meter sleeps until its next check-in
    update.end = max(t for _, out, _ in update.runs for t, l in out if "report:" in l)
    for line in update.lines():
        m = re.search(r"offered (patch|full image) of (\d+) B", line)
        if m:
            update.artifact_kind = "delta" if m.group(1) == "patch" else "full"
            update.artifact_size = int(m.group(2))
    check(update.artifact_kind == expect_kind,
          f"{name}: expected a {expect_kind} artifact, the meter was offered {update.artifact_kind}")
    update.air = modem.stop()
    if unhealthy:
        os.remove(flag)
    update.campaign = campaign
    return update


def refetched_after_cuts(update):
    """For each power cut: where the download went on afterwards and how many of the
    bytes the meter had received before the cut it fetched again."""
    have_end = 0  # bytes of the artifact the meter had received, as logged
    pending = []  # cuts whose resume point is not known yet
    reports = []
    for code, out, seconds in update.runs:
        first_fetch = None
        for t, line in out:
            m = re.search(r"fetch: resume at offset (\d+)", line)
            if m and first_fetch is None:
                first_fetch = int(m.group(1))
            m = re.search(r"fetch: block (\d+) (ok|failed)", line)
            if m:
                if first_fetch is None:
                    first_fetch = int(m.group(1)) * BLOCK
                if m.group(2) == "ok":
                    have_end = max(have_end, min((int(m.group(1)) + 1) * BLOCK, update.artifact_size))
        if first_fetch is not None:
            for r in pending:
                r["resumed_at"] = first_fetch
                r["refetched"] = max(0, r["had"] - first_fetch)
            pending = []
        if code == "cut":
            last = [l for _, l in out]
            reports.append({"had": have_end, "resumed_at": None, "refetched": 0, "after": seconds,
                            "during": last[-1].replace("meter: ", "") if last else "(no line yet)"})
            pending.append(reports[-1])
    return reports


# ---------------------------------------------------------------- main


def size_of(elf, section_names):
    out = subprocess.run(["arm-none-eabi-size", "-A", elf], capture_output=True, text=True,
                         check=True).stdout
    sizes = dict((p[0], int(p[1])) for p in (l.split() for l in out.splitlines()) if len(p) >= 2
                 and p[1].isdigit())
    return sum(sizes.get(s, 0) for s in section_names)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host-build", default=os.environ.get("UPDRAFT_HOST_BUILD", "build/release"))
    p.add_argument("--firmware", default="build/cortex-m0/agent/cortex_m/meter/updraft_meter.elf")
    p.add_argument("--rate", type=int, default=5000, help="bit/s on the air for the delta (5000)")
    p.add_argument("--full-rate", type=int, default=40000,
                   help="bit/s for the full-image update; 5000 measures it at NB-IoT speed "
                        "(about 3 minutes), anything faster estimates the 5000 bit/s time (40000)")
    p.add_argument("--loss", type=float, default=2.0, help="percent of datagrams lost each way (2)")
    p.add_argument("--pair", default="2-3", help="corpus versions OLD-NEW (2-3)")
    p.add_argument("--power-cuts", type=int, default=0, help="an update with N power cuts")
    p.add_argument("--rollback", action="store_true", help="an update whose trial fails its health check")
    p.add_argument("--no-full", action="store_true", help="skip the full-image update")
    p.add_argument("--seed", type=int, default=1, help="seed of the losses and the power cuts")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--quiet", action="store_true",
                   help="echo the meter's lines only for an update that fails")
    p.add_argument("--ci", action="store_true", help="the CI run: --rollback --power-cuts 2 --quiet")
    args = p.parse_args()
    if args.ci:
        args.rollback, args.quiet = True, True
        args.power_cuts = args.power_cuts or 2
    os.chdir(ROOT)

    tools = Tools(args.host_build, args.firmware)
    missing = tools.missing()
    if missing:
        log("meter check: SKIP: missing " + ", ".join(missing))
        return 77

    capacity = slot_capacity()
    corpus = os.environ.get("UPDRAFT_CORPUS") or os.path.join(ROOT, "..", "shared", "corpus")
    old_v, new_v = (int(v) for v in args.pair.split("-"))
    images = corpus_images(corpus, old_v, new_v, capacity)
    if images is None:
        log(f"meter check: no corpus at {corpus} (set UPDRAFT_CORPUS): using generated images")
        images = generated_images(capacity)
    old, new, unknown, images_text = images
    if unknown is None:
        unknown = bytes(b ^ 0x5A for b in old)

    work = tempfile.mkdtemp(prefix="meter-check-")
    server = None
    modems = []
    failed = None
    results = {}
    try:
        log(f"== setup (work dir {work})")
        server = Server(tools, work)
        log(f"updraftd: http {server.http_port}, coap {server.coap_port}; keys: {server.keys}")
        server.cli("product", "create", PRODUCT, "--profile", "mcu-tiny", "--slot-size", str(capacity))
        for version, image in ((OLD_VERSION, old), (NEW_VERSION, new)):
            path = os.path.join(work, f"release-{version}.bin")
            open(path, "wb").write(image)
            server.cli("release", "upload", path, "--product", PRODUCT, "--version", version,
                       "--security-counter", "1", "--hardware", HARDWARE)
        releases = json.loads(server.cli("release", "list", "--json"))["releases"]
        new_release = next(r["id"] for r in releases if r["version"] == NEW_VERSION)
        root_path = os.path.join(work, "root.bin")
        open(root_path, "wb").write(server.trusted_root())
        log(f"images: {images_text}; release {OLD_VERSION} sha256 {sha256(old)[:16]}, "
            f"{NEW_VERSION} sha256 {sha256(new)[:16]}")

        scenarios = [("delta", "delta", old, OLD_VERSION, args.rate, {})]
        if not args.no_full:
            scenarios.append(("full", "full", unknown, UNKNOWN_VERSION, args.full_rate, {}))
        if args.rollback:
            scenarios.append(("rollback", "delta", old, OLD_VERSION, args.rate, {"unhealthy": True}))
        if args.power_cuts > 0:
            scenarios.append(("cuts", "delta", old, OLD_VERSION, args.rate, {"cuts": args.power_cuts}))

        for i, (name, kind, image, version, rate, extra) in enumerate(scenarios):
            device_id = f"meter-{name}"
            server.cli("devices", "register", device_id, "--product", PRODUCT, "--hardware", HARDWARE,
                       "--secret", f"{device_id}-secret-0123456789")
            meter = Meter(tools, work, device_id)
            meter.provision(image, version, root_path)
            modem = Modem(tools, work, name, server.coap_port, rate, args.loss, args.seed + i)
            modems.append(modem)
            cuts = None
            if "cuts" in extra:
                # Seeded moments spread over the download of the clean delta update,
                # as long as it takes without losses: up to its first block, then a
                # block per median block time.
                rng = random.Random(args.seed)
                clean = results["delta"]
                blocks = [t for _, out, _ in clean.runs for t, l in out
                          if re.search(r"fetch: block \d+ ok", l)]
                gaps = sorted(b - a for a, b in zip(blocks, blocks[1:])) or [1.0]
                span = blocks[0] - clean.start + gaps[len(gaps) // 2] * (len(blocks) - 1)
                points = sorted(rng.uniform(0.1, span) for _ in range(extra["cuts"]))
                # The time from one start to the next cut: each start redoes the boot,
                # the check-in and the signature check before the download goes on,
                # which took the clean update up to its first block.
                restart = blocks[0] - clean.start
                cuts = [b - a + (restart if j else 0.0)
                        for j, (a, b) in enumerate(zip([0.0] + points, points))]
            log(f"== {name}: {device_id}, {'unhealthy trial, ' if extra.get('unhealthy') else ''}"
                f"{extra.get('cuts', 0) and str(extra['cuts']) + ' power cuts, ' or ''}"
                f"air {rate} bit/s, {args.loss:g} % loss each way")
            update = run_update(server, meter, modem, new_release, kind,
                                unhealthy=extra.get("unhealthy", False), cuts=cuts, echo=not args.quiet)
            modems.remove(modem)
            results[name] = update
            update.rate = rate
            verify(server, meter, update, name, old if name != "full" else unknown, new)
            if name == "cuts":
                update.cut_reports = refetched_after_cuts(update)

        report(args, tools, results, images_text)
    except CheckFailed as e:
        failed = str(e)
        if args.quiet and CURRENT is not None:
            log(f"the meter's lines ({CURRENT.name}):")
            for _, out, _ in CURRENT.runs:
                for t, line in out:
                    log(f"  [{t - CURRENT.start:7.2f}] {line}")
    finally:
        for m in modems:
            m.process.kill()
        if server:
            server.stop()
        if failed is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"meter check: work directory kept: {work}")
    if failed:
        log("meter check: FAIL: " + failed)
        return 1
    log("meter check: ok")
    return 0


def verify(server, meter, update, name, old, new):
    """The meter runs what it should, by its flash, its log and the server."""
    running = old if name == "rollback" else new
    # updraftd writes a device's new image with the check-in statuses, at its next
    # scheduler tick after the success report.
    deadline = time.time() + 5
    device = server.device(meter.id)
    while device["image_sha256"] != sha256(running) and time.time() < deadline:
        time.sleep(0.2)
        device = server.device(meter.id)
    lines = update.lines()
    last_boot = [l for l in lines if "meter: boot:" in l][-1]
    if name == "rollback":
        check(any("report: rolled_back, error 521" in l for l in lines),
              f"{name}: no rollback report with error 521 (health check failed)")
        check(f"slot A, version {OLD_VERSION}" in last_boot, f"{name}: the meter did not go back: {last_boot}")
        check(meter.slot_hash(0, len(old)) == sha256(old), f"{name}: slot A no longer holds the old image")
        check(device["last_deployment"]["state"] in ("rolled_back", "failed"),
              f"{name}: updraftd says {device['last_deployment']['state']}, not rolled_back")
        check(device["image_sha256"] == sha256(old), f"{name}: updraftd has the wrong running image")
        check(not any("not delivered" in l for l in lines), f"{name}: a report was not delivered")
        log(f"{name}: the trial failed its health check; the meter reported error 521, rebooted "
            f"into slot A ({OLD_VERSION}); updraftd: {device['last_deployment']['state']}")
        return
    check(f"slot B, version {NEW_VERSION}" in last_boot and any("report: success" in l for l in lines),
          f"{name}: the meter did not boot {NEW_VERSION} from slot B and report success")
    check(meter.slot_hash(meter.slot_b, len(new)) == sha256(new),
          f"{name}: slot B does not hold the new release's SHA-256")
    state = device["last_deployment"]["state"]
    check(state == "succeeded", f"{name}: updraftd says the deployment is {state}")
    check(device["image_sha256"] == sha256(new), f"{name}: updraftd has the wrong running image")
    check(device["last_deployment"]["artifact_kind"] == update.artifact_kind,
          f"{name}: updraftd offered {device['last_deployment']['artifact_kind']}")
    log(f"{name}: slot B holds {NEW_VERSION} (sha256 {sha256(new)[:16]}), the meter boots it; "
        f"updraftd: deployment {state}, {update.artifact_kind}")


def report(args, tools, results, images_text):
    log("== figures")
    elf = tools.firmware
    flash = size_of(elf, [".text", ".ARM.exidx", ".data"])
    static = size_of(elf, [".data", ".bss"])
    peaks = [p for u in results.values() for p in u.stack_peaks()]
    peak, stack_size = max(peaks)  # the stack as the firmware paints it (.stack, 8-aligned)
    log(f"flash:  {flash} B of {FLASH_LIMIT} (firmware: agent, CoAP, SLIP, mbedTLS, ports; "
        f"no test images in it)")
    log(f"RAM:    static {static} B (.data + .bss) + peak stack {peak} B (painted, of {stack_size}) "
        f"= {static + peak} B of {RAM_BYTES}")
    check(flash <= FLASH_LIMIT, f"the firmware takes {flash} B of flash, more than {FLASH_LIMIT}")
    check(static + stack_size <= RAM_BYTES, "static RAM and stack exceed 16 KB")
    check(peak < stack_size, f"the stack overflowed (peak {peak} of {stack_size} B)")
    check(static + peak <= RAM_BYTES, "RAM over 16 KB")
    log(f"images: {images_text}")
    for name in ("delta", "full"):
        u = results.get(name)
        if not u:
            continue
        air = u.air["air_bytes"]
        took = u.end - u.start
        blocks_up, blocks_down, other_up, other_down = u.link_bytes()
        lost = u.air["up_dropped"] + u.air["down_dropped"]
        what = "patch" if name == "delta" else "full image"
        log(f"{name}: {what} {u.artifact_size} B; on air {air} B (up {u.air['up_bytes']}, down "
            f"{u.air['down_bytes']}; {u.air['air_datagrams']} datagrams, {lost} lost) = "
            f"{air / u.artifact_size:.3f} x the {what}")
        log(f"{name}: of which the meter sent/received for blocks {blocks_up + blocks_down} B "
            f"({(blocks_up + blocks_down) / u.artifact_size:.3f} x), for check-in and reports "
            f"{other_up + other_down} B")
        if name == "delta":
            ratio = air / u.artifact_size
            log(f"{name}: target <= {RATIO_TARGET:.2f} x the patch on air: "
                + ("met" if ratio <= RATIO_TARGET else
                   f"not met by the whole update ({ratio:.3f}): its check-in and reports "
                   f"({other_up + other_down} B) are {(other_up + other_down) / u.artifact_size:.0%} "
                   f"of this patch (docs/agent-mcu.md)"))
        # The block transfer is what the protocol decides: its framing, and the blocks
        # the meter asked for again, must stay within the target.
        check((blocks_up + blocks_down) / u.artifact_size <= RATIO_TARGET,
              f"{name}: the blocks took {(blocks_up + blocks_down) / u.artifact_size:.3f} x the "
              f"artifact, more than {RATIO_TARGET}")
        if u.rate == 5000:
            log(f"{name}: the update took {took:.1f} s at 5000 bit/s, {args.loss:g} % loss "
                f"(first wake-up to the success report; measured)")
        else:
            # The air time scales with the rate; boots, crypto and timeouts do not.
            estimate = took + air * 8 * (1 / 5000 - 1 / u.rate)
            log(f"{name}: the update took {took:.1f} s at {u.rate} bit/s; at 5000 bit/s about "
                f"{estimate:.0f} s (estimated: + {air} B x 8 x (1/5000 - 1/{u.rate}) s; "
                f"--full-rate 5000 measures it)")
        u.took = took
    if "delta" in results and "full" in results:
        d, f = results["delta"], results["full"]
        log(f"delta vs full: {d.air['air_bytes']} vs {f.air['air_bytes']} B on air "
            f"({d.air['air_bytes'] / f.air['air_bytes'] * 100:.1f} %)")
    u = results.get("cuts")
    if u:
        reports = u.cut_reports
        for i, r in enumerate(reports, 1):
            resumed = ("no block left to fetch" if r["resumed_at"] is None
                       else f"the download went on at offset {r['resumed_at']}")
            log(f"cut {i}: {r['after']:.2f} s into a run, after \"{r['during']}\"; "
                f"{r['had']} B received before it; {resumed}; re-fetched {r['refetched']} B")
        worst = max((r["refetched"] for r in reports), default=0)
        log(f"power cuts: {len(reports)} of {args.power_cuts} landed before the update finished; "
            f"most re-fetched after one: {worst} B (one block: {BLOCK} B); update took "
            f"{u.end - u.start:.1f} s")
        clean = results["delta"].air["air_bytes"]
        log(f"power cuts: on air {u.air['air_bytes']} B against {clean} B without cuts: each restart "
            f"checks in again (a new nonce, a freshly signed manifest)")
        check(len(reports) > 0, "no power cut landed during the update")
        check(worst <= BLOCK, f"a power cut cost {worst} B of re-fetching, more than one block")


if __name__ == "__main__":
    sys.exit(main())
