#!/usr/bin/env python3
"""A whole fleet through one campaign: updraftd plus updraft-sim with N devices.

Starts updraftd on a fresh data directory (SQLite), or N updraftd nodes on a
private PostgreSQL behind nginx (scripts/cluster.sh), publishes two releases of a
generated firmware image (v2 = v1 with a few edits, so devices get small deltas),
lets the devices register and check in, starts a two-phase campaign and runs the
simulator until it ends. Reports wall time, check-ins/s, the check-in latency the
devices saw (p50, p99), and each node's CPU time and peak RSS (and PostgreSQL's
CPU). A benchmark, not a test: it prints figures and exits 0 unless something
fails to run.

  cmake --preset release && cmake --build --preset release
  python3 bench/fleet_bench.py --devices 10000
  python3 bench/fleet_bench.py --store postgresql --nodes 2 --devices 10000
  python3 bench/fleet_bench.py --compare --devices 10000 50000   # sqlite/1, postgresql/1, postgresql/2
"""
import argparse
import json
import re
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request


def request(port, token, method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=120) as answer:
        return json.loads(answer.read() or b"null")


def images(size, seed=7):
    rng = random.Random(seed)
    words = [rng.getrandbits(32).to_bytes(4, "little") for _ in range(64)]
    v1 = bytearray()
    while len(v1) < size:  # code-like: a small vocabulary of words, some text
        v1 += words[rng.randrange(64)] if rng.random() < 0.9 else bytes(rng.randrange(32, 127) for _ in range(12))
    v1 = bytes(v1[:size])
    v2 = bytearray(v1)
    for _ in range(size // 2000):  # a rebuild: scattered changes
        v2[rng.randrange(size)] ^= 0x5A
    return v1, bytes(v2)


def proc_stats(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) * 1024
    return cpu, rss


def cpu_of_tree(pid):
    """CPU seconds of a process and its live children (PostgreSQL's backends)."""
    total = 0.0
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for p in [pid] + [int(c) for c in children]:
            total += proc_stats(p)[0]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


class Servers:
    """updraftd on SQLite (one node), or scripts/cluster.sh: PostgreSQL, N nodes, nginx."""

    def __init__(self, args, store, nodes):
        self.args, self.store, self.nodes = args, store, nodes
        self.work = tempfile.mkdtemp(prefix="updraft-fleet-bench-")
        self.server_args = ["--threads", str(args.server_threads), "--tick-ms", "500",
                            "--active-poll-seconds", "5"]
        self.process = None
        self.pids = []
        self.postmaster = None

    def __enter__(self):
        updraftd = os.path.join(self.args.build, "server/updraftd")
        if self.store == "sqlite":
            self.process = subprocess.Popen(
                [updraftd, "--data", self.work, "--port", "0", "--port-file", f"{self.work}/port"] + self.server_args,
                stdout=open(f"{self.work}/updraftd.log", "w"), stderr=subprocess.STDOUT)
            for _ in range(200):
                if os.path.exists(f"{self.work}/port") and open(f"{self.work}/port").read().strip():
                    break
                time.sleep(0.05)
            self.port = int(open(f"{self.work}/port").read())
            self.token_file = f"{self.work}/admin.token"
            self.pids = [self.process.pid]
            return self
        env = dict(os.environ, UPDRAFTD=updraftd, UPDRAFTD_ARGS=" ".join(self.server_args))
        self.out = open(f"{self.work}/cluster.out", "w+")
        self.process = subprocess.Popen(["bash", "scripts/cluster.sh", str(self.nodes)], env=env,
                                        stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(600):
            text = open(f"{self.work}/cluster.out").read()
            if "Ctrl-C stops it" in text or self.process.poll() is not None:
                break
            time.sleep(0.1)
        if "Ctrl-C stops it" not in text:
            sys.exit(f"fleet_bench: the cluster did not start:\n{text}")
        self.port = int(re.search(r"behind nginx at http://127.0.0.1:(\d+)", text).group(1))
        cluster_dir = re.search(r"admin token in (/tmp/updraft-cluster-\w+)", text).group(1)
        self.token_file = f"{cluster_dir}/data/admin.token"
        self.pids = [int(p) for p in re.findall(r"node \d+ pid (\d+)", text)]
        with open(f"{cluster_dir}/pg/data/postmaster.pid") as f:
            self.postmaster = int(f.readline())
        return self

    def cpu(self):
        """Per node CPU seconds, and PostgreSQL's (0 on SQLite)."""
        return [proc_stats(p)[0] for p in self.pids], (cpu_of_tree(self.postmaster) if self.postmaster else 0.0)

    def rss(self):
        return [proc_stats(p)[1] for p in self.pids]

    def __exit__(self, *exc):
        if self.process is not None:
            if self.store == "sqlite":
                self.process.send_signal(signal.SIGTERM)
            else:
                os.killpg(self.process.pid, signal.SIGINT)  # cluster.sh stops all and cleans up
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def run_fleet(args, store, nodes, devices):
    sim = os.path.join(args.build, "sim/updraft-sim")
    with Servers(args, store, nodes) as servers:
        port, token = servers.port, open(servers.token_file).read().strip()
        work = servers.work
        v1, v2 = images(args.image_kb * 1024)
        open(f"{work}/v1.bin", "wb").write(v1)
        request(port, token, "POST", "/api/v1/products", {"name": "bench", "profile": "mcu-tiny"})
        request(port, token, "POST", "/api/v1/releases?product=bench&version=1.0.0&security_counter=1&hardware=sim-board", raw=v1)
        target = request(port, token, "POST", "/api/v1/releases?product=bench&version=2.0.0&security_counter=2&hardware=sim-board", raw=v2)["id"]
        sim_args = [sim, "--server", f"127.0.0.1:{port}", "--token-file", servers.token_file, "--product", "bench",
                    "--image", f"{work}/v1.bin", "--version", "1.0.0", "--target-version", "2.0.0",
                    "-n", str(devices), "--threads", str(args.sim_threads), "-q"]
        label = f"{store}, {nodes} node{'s' if nodes > 1 else ''}"
        print(f"[fleet] {label}: registering {devices} devices and their first check-in", file=sys.stderr)
        started = time.time()
        subprocess.run(sim_args + ["--max-rounds", "2"], check=True, stdout=subprocess.DEVNULL)
        registered = time.time() - started

        campaign = request(port, token, "POST", "/api/v1/campaigns",
                           {"name": "bench", "release": target, "phases": [{"percent": 10}, {"percent": 100}],
                            "success_threshold": 0.9})["id"]
        request(port, token, "POST", f"/api/v1/campaigns/{campaign}/start")
        cpu_before, pg_before = servers.cpu()
        print(f"[fleet] {label}: campaign {campaign} started; running the fleet", file=sys.stderr)
        started = time.time()
        out = subprocess.run(sim_args + ["--campaign", str(campaign), "--json", f"{work}/outcome.json"],
                             check=True, capture_output=True, text=True)
        wall = time.time() - started
        cpu_after, pg_after = servers.cpu()
        rss = servers.rss()
        outcome = json.load(open(f"{work}/outcome.json"))
        # The simulator stops once every device runs v2; the scheduler completes the
        # campaign at one of its next ticks.
        for _ in range(50):
            state = request(port, token, "GET", f"/api/v1/campaigns/{campaign}")["state"]
            if state != "running":
                break
            time.sleep(0.2)
        if args.verbose:
            print(out.stdout, end="")
        return {
            "store": store, "nodes": nodes, "devices": devices, "image_bytes": len(v1), "campaign_state": state,
            "register_and_first_check_in_s": round(registered, 1), "campaign_wall_s": round(wall, 1),
            "check_ins": outcome["check_ins"], "check_ins_per_s": round(outcome["check_ins"] / wall),
            "check_in_p50_ms": outcome["check_in_p50_us"] / 1000, "check_in_p99_ms": outcome["check_in_p99_us"] / 1000,
            "node_cpu_s": [round(a - b, 1) for a, b in zip(cpu_after, cpu_before)],
            "node_peak_rss_mb": [round(r / 2**20, 1) for r in rss],
            "postgresql_cpu_s": round(pg_after - pg_before, 1),
            "updated": outcome["updated"], "bricked": outcome["bricked"],
            "bytes_downloaded": outcome["bytes_downloaded"], "full_image_bytes": outcome["full_image_bytes"],
        }


def print_table(rows):
    print("| store | nodes | devices | campaign | wall s | check-ins/s | p50 ms | p99 ms | "
          "CPU s per node | peak RSS MB per node | PostgreSQL CPU s | updated |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---|---|---:|---:|")
    for r in rows:
        print(f"| {r['store']} | {r['nodes']} | {r['devices']} | {r['campaign_state']} | {r['campaign_wall_s']} | "
              f"{r['check_ins_per_s']} | {r['check_in_p50_ms']:.2f} | {r['check_in_p99_ms']:.2f} | "
              f"{' + '.join(str(c) for c in r['node_cpu_s'])} | {' / '.join(str(m) for m in r['node_peak_rss_mb'])} | "
              f"{r['postgresql_cpu_s'] if r['store'] == 'postgresql' else '-'} | {r['updated']} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, nargs="+", default=[10000], help="fleet sizes, one run each")
    ap.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--nodes", type=int, default=1, help="updraftd nodes behind nginx (postgresql only)")
    ap.add_argument("--compare", action="store_true",
                    help="run sqlite with 1 node, postgresql with 1 and with 2, for each fleet size")
    ap.add_argument("--image-kb", type=int, default=64, help="firmware size (each device keeps two slots in RAM)")
    ap.add_argument("--sim-threads", type=int, default=4)
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--verbose", "-v", action="store_true", help="print the simulator's table of each run")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.store == "sqlite" and args.nodes != 1 and not args.compare:
        sys.exit("fleet_bench: several nodes need --store postgresql")
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    for binary in ("server/updraftd", "sim/updraft-sim"):
        if not os.path.exists(os.path.join(args.build, binary)):
            sys.exit(f"fleet_bench: {args.build}/{binary} missing; build with: "
                     "cmake --preset release && cmake --build --preset release")
    setups = [("sqlite", 1), ("postgresql", 1), ("postgresql", 2)] if args.compare else [(args.store, args.nodes)]
    rows = []
    for devices in args.devices:
        for store, nodes in setups:
            rows.append(run_fleet(args, store, nodes, devices))
            print_table(rows[-1:])
    print(f"\nfleets through one two-phase campaign, {args.image_kb} KiB image; the simulator, every node "
          "and PostgreSQL share this machine's cores, so latency includes waiting for a CPU:")
    print_table(rows)
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
