#!/usr/bin/env python3
"""The console and the device list at fleet size: 100,000 registered devices.

Starts updraftd on a fresh data directory (SQLite), creates a product, two releases
and a campaign through the API, stops it, and inserts N devices straight into the
store as a fixture (each with tags, a running version, a last check-in, and a
deployment in the campaign in a mix of states, so the list's "latest deployment"
has rows to read), then starts updraftd again and measures:

  - the admin API's answer time for the device list's first page and for each
    search (id prefix, tag, version, state, hardware, last seen), p50 and p99 over
    --repeat calls each, on loopback;
  - in headless Chromium (bench/console_page_timing.mjs), the devices page from
    navigation until its first page of rows shows, and an id-prefix search typed
    into the page until its rows show.

A benchmark, not a test: it prints figures and exits 0 unless something fails to
run. No peer console is packaged in Debian, so the figures stand against the
issue's targets (first page under 1 s, id-prefix search under 200 ms on the server).

  cmake --preset release && cmake --build --preset release
  python3 bench/console_bench.py --devices 100000
"""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from fleet_bench import request  # the admin API call, as the fleet bench makes it

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(updraftd, data):
    port_file = os.path.join(data, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    log = open(os.path.join(data, "updraftd.log"), "a")
    proc = subprocess.Popen([updraftd, "--data", data, "--port", "0", "--port-file", port_file],
                            stdout=log, stderr=log)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        sys.exit("updraftd did not start; see " + os.path.join(data, "updraftd.log"))
    return proc, int(open(port_file).read()), open(os.path.join(data, "admin.token")).read().strip()


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


# Deployment states as the store numbers them (DeploymentState, server/model/campaign.h).
STATES = {"scheduled": 1, "pending": 2, "downloading": 3, "installing": 4, "rebooting": 5,
          "succeeded": 6, "failed": 7, "rolled_back": 8, "canceled": 9, "deferred": 10}


def insert_fleet(db_path, devices, product_id, campaign_id, now, seed=11):
    rng = random.Random(seed)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA foreign_keys = ON")
    hardware = ["rev-a", "rev-b", "rev-c"]
    tags = ["eu", "us", "pilot", "field", "lab"]
    device_rows, tag_rows, deployment_rows = [], [], []
    for i in range(devices):
        device_id = f"dev-{i:06d}"
        version = "2.0.0" if rng.random() < 0.6 else "1.0.0"
        device_rows.append((device_id, product_id, hardware[i % 3], "", version, "", 0,
                            rng.randrange(100), "nb-iot", now - rng.randrange(30 * 86400), now - 90 * 86400))
        for tag in rng.sample(tags, 2):
            tag_rows.append((device_id, tag))
        state = rng.choices(["succeeded", "failed", "pending", "downloading", "canceled"],
                            [60, 5, 20, 10, 5])[0]
        deployment_rows.append((campaign_id, device_id, 0, STATES[state], 100 if state == "succeeded" else 30,
                                202 if state == "failed" else 0, 1, "delta", "", "", now - 3600, now - 60,
                                now - 60 if state in ("succeeded", "failed", "canceled") else 0))
    with db:
        db.executemany("INSERT INTO devices (id, product_id, hardware, secret_hash, version, image_sha256, slot,"
                       " battery_percent, network, last_seen, registered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       device_rows)
        db.executemany("INSERT INTO device_tags (device_id, tag) VALUES (?,?)", tag_rows)
        db.executemany("INSERT INTO deployments (campaign_id, device_id, phase, state, progress, error, attempts,"
                       " artifact_kind, from_sha256, message, created_at, updated_at, finished_at)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", deployment_rows)
    db.execute("ANALYZE")
    db.close()


def timed(port, token, path, repeat):
    times = []
    answer = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        answer = request(port, token, "GET", path)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))], answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30, help="calls per API figure")
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    updraftd = os.path.join(args.build, "server", "updraftd")
    if not os.path.exists(updraftd):
        sys.exit(f"{updraftd} is missing: cmake --preset release && cmake --build --preset release")

    data = tempfile.mkdtemp(prefix="updraft-console-bench-")
    try:
        proc, port, token = start(updraftd, data)
        request(port, token, "POST", "/api/v1/products", {"name": "meter", "profile": "mcu-tiny"})
        image = bytes(random.Random(3).randrange(256) for _ in range(64 * 1024))
        for version, counter, body in (("1.0.0", 1, image), ("2.0.0", 2, image[:-100] + bytes(100))):
            q = urllib.parse.urlencode({"product": "meter", "version": version, "security_counter": counter,
                                        "hardware": "rev-a,rev-b,rev-c"})
            release = request(port, token, "POST", f"/api/v1/releases?{q}", raw=body)
        campaign = request(port, token, "POST", "/api/v1/campaigns", {"name": "fleet", "release": release["id"]})
        stop(proc)

        t0 = time.perf_counter()
        now = int(time.time())
        insert_fleet(os.path.join(data, "updraft.db"), args.devices, 1, campaign["id"], now)
        print(f"fixture: {args.devices} devices with 2 tags and a deployment each, "
              f"inserted in {time.perf_counter() - t0:.1f} s")

        proc, port, token = start(updraftd, data)
        try:
            print(f"\nadmin API on loopback, {args.repeat} calls each (ms):")
            print(f"  {'query':<44} {'p50':>8} {'p99':>8} {'total':>8} {'rows':>5}")
            queries = [
                ("first page (limit 50)", "/api/v1/devices?limit=50"),
                ("page 1000 (offset 49,950)", "/api/v1/devices?limit=50&offset=49950"),
                ("id prefix dev-0421", "/api/v1/devices?limit=50&id=dev-0421"),
                ("id prefix dev-09999 (10 matches)", "/api/v1/devices?limit=50&id=dev-09999"),
                ("tag pilot", "/api/v1/devices?limit=50&tag=pilot"),
                ("version 1.0.0", "/api/v1/devices?limit=50&version=1.0.0"),
                ("hardware rev-b", "/api/v1/devices?limit=50&hardware=rev-b"),
                ("state failed (latest deployment)", "/api/v1/devices?limit=50&state=failed"),
                ("seen in the last day", f"/api/v1/devices?limit=50&seen_after={now - 86400}"),
            ]
            figures = {}
            for label, path in queries:
                p50, p99, answer = timed(port, token, path, args.repeat)
                figures[label] = p50
                print(f"  {label:<44} {p50:8.1f} {p99:8.1f} {answer['total']:8d} {len(answer['devices']):5d}")

            timing = subprocess.run(
                ["node", os.path.join(ROOT, "bench", "console_page_timing.mjs"), f"http://127.0.0.1:{port}", token,
                 str(args.devices)],
                capture_output=True, text=True, timeout=300)
            if timing.returncode != 0:
                sys.exit("console_page_timing.mjs failed:\n" + timing.stdout + timing.stderr)
            page = json.loads(timing.stdout.strip().splitlines()[-1])
            print("\nconsole in headless Chromium (ms, median of "
                  f"{len(page['first_page'])}; each run a fresh page):")
            print(f"  devices page, navigation to first rows: {statistics.median(page['first_page']):8.1f}"
                  f"   (target < 1000)  runs {', '.join(f'{x:.0f}' for x in page['first_page'])}")
            print(f"  id-prefix search typed, to its rows:    {statistics.median(page['search']):8.1f}"
                  f"   runs {', '.join(f'{x:.0f}' for x in page['search'])}")
            print(f"  id-prefix search on the server (p50):   {figures['id prefix dev-0421']:8.1f}"
                  "   (target < 200)")
        finally:
            stop(proc)
    finally:
        if args.keep:
            print("data kept in", data)
        else:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
