#!/usr/bin/env python3
"""A whole fleet through one campaign: updraftd plus updraft-sim with N devices.

Starts updraftd on a fresh data directory, publishes two releases of a generated
firmware image (v2 = v1 with a few edits, so devices get small deltas), lets the
devices register and check in, starts a two-phase campaign and runs the simulator
until it ends. Reports wall time, the server's CPU time and peak RSS, and the
check-in latency the devices saw (p50, p99). A benchmark, not a test: it prints
figures and exits 0 unless something fails to run.

  cmake --preset release && cmake --build --preset release
  python3 bench/fleet_bench.py --devices 10000
"""
import argparse
import json
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=10000)
    ap.add_argument("--image-kb", type=int, default=64, help="firmware size (each device keeps two slots in RAM)")
    ap.add_argument("--sim-threads", type=int, default=4)
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    updraftd = os.path.join(args.build, "server/updraftd")
    sim = os.path.join(args.build, "sim/updraft-sim")
    for binary in (updraftd, sim):
        if not os.path.exists(binary):
            sys.exit(f"fleet_bench: {binary} missing; build with: cmake --preset release && cmake --build --preset release")

    work = tempfile.mkdtemp(prefix="updraft-fleet-bench-")
    server = None
    try:
        server = subprocess.Popen([updraftd, "--data", work, "--port", "0", "--port-file", f"{work}/port",
                                   "--threads", str(args.server_threads), "--tick-ms", "500",
                                   "--active-poll-seconds", "5"],
                                  stdout=open(f"{work}/updraftd.log", "w"), stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(f"{work}/port") and open(f"{work}/port").read().strip():
                break
            time.sleep(0.05)
        port = int(open(f"{work}/port").read())
        token = open(f"{work}/admin.token").read().strip()

        v1, v2 = images(args.image_kb * 1024)
        open(f"{work}/v1.bin", "wb").write(v1)
        request(port, token, "POST", "/api/v1/products", {"name": "bench", "profile": "mcu-tiny"})
        request(port, token, "POST", "/api/v1/releases?product=bench&version=1.0.0&security_counter=1&hardware=sim-board", raw=v1)
        target = request(port, token, "POST", "/api/v1/releases?product=bench&version=2.0.0&security_counter=2&hardware=sim-board", raw=v2)["id"]
        sim_args = [sim, "--server", f"127.0.0.1:{port}", "--token-file", f"{work}/admin.token", "--product", "bench",
                    "--image", f"{work}/v1.bin", "--version", "1.0.0", "--target-version", "2.0.0",
                    "-n", str(args.devices), "--threads", str(args.sim_threads), "-q"]
        print(f"[fleet] registering {args.devices} devices and their first check-in", file=sys.stderr)
        started = time.time()
        subprocess.run(sim_args + ["--max-rounds", "2"], check=True, stdout=subprocess.DEVNULL)
        registered = time.time() - started

        campaign = request(port, token, "POST", "/api/v1/campaigns",
                           {"name": "bench", "release": target, "phases": [{"percent": 10}, {"percent": 100}],
                            "success_threshold": 0.9})["id"]
        request(port, token, "POST", f"/api/v1/campaigns/{campaign}/start")
        cpu_before, _ = proc_stats(server.pid)
        print(f"[fleet] campaign {campaign} started; running the fleet", file=sys.stderr)
        started = time.time()
        out = subprocess.run(sim_args + ["--campaign", str(campaign), "--json", f"{work}/outcome.json"],
                             check=True, capture_output=True, text=True)
        wall = time.time() - started
        cpu_after, rss = proc_stats(server.pid)
        outcome = json.load(open(f"{work}/outcome.json"))
        state = request(port, token, "GET", f"/api/v1/campaigns/{campaign}")["state"]

        figures = {
            "devices": args.devices, "image_bytes": len(v1), "campaign_state": state,
            "register_and_first_check_in_s": round(registered, 1), "campaign_wall_s": round(wall, 1),
            "server_cpu_s": round(cpu_after - cpu_before, 1), "server_peak_rss_mb": round(rss / 2**20, 1),
            "check_ins": outcome["check_ins"], "check_in_p50_ms": outcome["check_in_p50_us"] / 1000,
            "check_in_p99_ms": outcome["check_in_p99_us"] / 1000, "updated": outcome["updated"],
            "bricked": outcome["bricked"], "bytes_downloaded": outcome["bytes_downloaded"],
            "full_image_bytes": outcome["full_image_bytes"],
        }
        print(out.stdout, end="")
        print(f"fleet of {args.devices} devices, {len(v1)}-byte image, one two-phase campaign ({state}):")
        print(f"  registration + first check-in  {figures['register_and_first_check_in_s']:8.1f} s")
        print(f"  campaign wall time             {figures['campaign_wall_s']:8.1f} s")
        print(f"  updraftd CPU during campaign   {figures['server_cpu_s']:8.1f} s")
        print(f"  updraftd peak RSS              {figures['server_peak_rss_mb']:8.1f} MB")
        print(f"  check-in latency p50 / p99     {figures['check_in_p50_ms']:.2f} / {figures['check_in_p99_ms']:.2f} ms "
              f"over {figures['check_ins']} check-ins (simulator and server share the machine)")
        if args.json:
            json.dump(figures, open(args.json, "w"), indent=1)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
