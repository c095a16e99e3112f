#!/usr/bin/env python3
"""Measures updraftd's device check-in and artifact download next to nginx, with wrk, in one run.

Two cases, each run against updraftd and then against nginx serving the same bytes from files:

  check-in  POST /api/v1/device/checkin (JSON body, device token) of a device with no
            deployment, the hot path of a fleet, vs nginx GET of a file holding the exact
            answer updraftd gave. nginx serves static files only for GET, so its requests
            are GETs carrying the same Authorization header; updraftd's are the real POSTs.
  download  GET /api/v1/device/deployments/{id}/artifact (sendfile) of a 32 MiB full image
            vs nginx GET (sendfile on) of the same file.

With --store postgresql, updraftd runs on a private PostgreSQL the bench starts in its temp
dir (initdb, pg_ctl on a free loopback port; as the postgres user when root); the CPU
column counts updraftd only, not the PostgreSQL server.

Targets (issue): check-in requests/s >= 0.50x nginx, download MB/s >= 0.90x nginx. Missing
a target is reported, not an error: exits 1 only if a server fails to start, the setup
fails, or wrk fails or sees an error answer.

Python 3 standard library only. Needs wrk and nginx (scripts/setup.sh) and a built updraftd:
  cmake --preset release && cmake --build --preset release
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHECKIN_PATH = "/api/v1/device/checkin"
TARGETS = {"checkin": ("requests_per_s", 0.50), "download": ("mb_per_s", 0.90)}
# A device on a version the server does not know: no delta source, so the offer is the
# full image at once, and no 32 MB diff runs in the background during the measurement.
CHECKIN_BODY = json.dumps({"version": "0.9.0", "image_sha256": "ab" * 32, "slot": 0, "battery": 80,
                           "network": "wifi", "nonce": "0123456789abcdef"}, separators=(",", ":"))
DEVICE_SECRET = "bench-device-secret-0123456789ab"  # 32 characters
START_TIMEOUT_S = 10
STOP_TIMEOUT_S = 5

# Without a proxy: http_proxy in the environment must not catch loopback requests.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchFailed(Exception):
    pass


# --- Processes.

def start_process(argv, log, name, ready):
    """Starts argv in its own process group (so Ctrl-C reaches only this script, which then
    stops it in order) and polls ready() until it returns a value, for START_TIMEOUT_S."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchFailed(f"{name} exited {proc.returncode} at start; {log_tail(log)}")
        value = ready()
        if value:
            return proc, value
        time.sleep(0.05)
    stop_process(proc)
    raise BenchFailed(f"{name} not ready after {START_TIMEOUT_S} s; {log_tail(log)}")


def log_tail(log, lines=10):
    return f"last lines of {log}:\n" + "\n".join(Path(log).read_text().splitlines()[-lines:])


def stop_process(proc):
    """SIGTERM, a bounded wait, then SIGKILL to the whole group (nginx workers outlive a
    killed master)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def cpu_seconds(pid):
    """User + system CPU time of pid and its direct children (nginx's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses; fields follow the last ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def free_port():
    # The kernel's choice, released again for nginx: a small race, fine on a bench machine.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP.

def request(base, method, path, token=None, body=None):
    """One request; returns the body as bytes. A non-2xx answer raises BenchFailed."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if isinstance(body, dict):
        req.add_header("Content-Type", "application/json")
    try:
        with HTTP.open(req, timeout=60) as resp:
            return resp.read()
    except urllib.error.HTTPError as e:
        raise BenchFailed(f"{method} {path}: HTTP {e.code} {e.read()[:300]!r}") from e
    except OSError as e:
        raise BenchFailed(f"{method} {path}: {e}") from e


def call(base, method, path, token=None, body=None):
    return json.loads(request(base, method, path, token, body))


# --- Servers.

def start_postgres(scratch, stack):
    """A private PostgreSQL in scratch/pg; returns the URI of its database `updraft`."""
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    if not (Path(bindir) / "initdb").exists():
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise BenchFailed("PostgreSQL is not installed (scripts/setup.sh installs it)")
        bindir = str(found[-1].parent)
    pg = scratch / "pg"
    pg.mkdir()
    as_pg = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(pg, "postgres", "postgres")
        os.chmod(scratch, 0o755)
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(as_pg + [f"{bindir}/initdb", "-D", pg / "data", "-U", "updraft", "--auth=trust",
                            "--no-locale", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run(as_pg + [f"{bindir}/pg_ctl", "-D", pg / "data", "-l", pg / "server.log", "-w", "-o",
                            f"-p {port} -k {pg} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    stack.callback(subprocess.run, as_pg + [f"{bindir}/pg_ctl", "-D", pg / "data", "-m", "fast", "-w",
                                            "stop"], capture_output=True)
    subprocess.run([f"{bindir}/psql", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "updraft",
                    "-d", "postgres", "-c", "CREATE DATABASE updraft"], check=True, capture_output=True)
    return f"postgresql://updraft@127.0.0.1:{port}/updraft"


def start_updraftd(exe, scratch, threads, store=None):
    data = scratch / "updraftd-data"
    port_file = scratch / "updraftd.port"

    def port():
        text = port_file.read_text() if port_file.exists() else ""
        return int(text) if text.strip().isdigit() else None

    store_args = ["--store", store] if store else []
    proc, port = start_process([exe, "--data", data, "--port", 0, "--port-file", port_file,
                                "--threads", threads] + store_args,
                               scratch / "updraftd.log", "updraftd", port)
    return proc, f"http://127.0.0.1:{port}", (data / "admin.token").read_text().strip()


NGINX_CONF = """\
{user}
daemon off;
master_process on;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log stderr;
events {{}}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types {{ application/json json; }}
  default_type application/octet-stream;
  client_body_temp_path {tmp}/client_body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ root {tmp}/www; }}
  }}
}}
"""


def start_nginx(exe, scratch, workers):
    """nginx as any user: config, pid, logs and temp paths all in scratch/nginx."""
    tmp = scratch / "nginx"
    port = free_port()
    # As root, nginx would run its workers as nobody, who cannot read the 0700 temp dir.
    user = "user root;" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(user=user, workers=workers, tmp=tmp, port=port))
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            request(base, "GET", "/ready")
            return True
        except BenchFailed:
            return False

    (tmp / "www" / "ready").write_text("ok\n")
    # -e: nginx opens its compiled-in error log (/var/log/nginx) before reading the config.
    proc, _ = start_process([exe, "-p", tmp, "-c", tmp / "nginx.conf", "-e", "stderr"],
                            tmp / "error.log", "nginx", ready)
    return proc, base


def setup_checkin(base, admin, www):
    """Product, device and device token; writes updraftd's check-in answer to www."""
    call(base, "POST", "/api/v1/products", admin, {"name": "bench", "profile": "linux"})
    call(base, "POST", "/api/v1/devices", admin,
         {"id": "bench-1", "product": "bench", "hardware": "hw", "secret": DEVICE_SECRET})
    token = call(base, "POST", "/api/v1/device/token", None,
                 {"device_id": "bench-1", "secret": DEVICE_SECRET})["token"]
    answer = request(base, "POST", CHECKIN_PATH, token, CHECKIN_BODY.encode())
    if json.loads(answer).get("update") is not False:
        raise BenchFailed(f"check-in offered an update to a device with no deployment: {answer!r}")
    (www / "checkin.json").write_bytes(answer)
    return token, answer


def setup_download(base, admin, token, www, size):
    """A release of random bytes, a running campaign of it and one check-in; returns the
    artifact path. Writes the same image to www and checks updraftd serves exactly it."""
    image = os.urandom(size)
    release = call(base, "POST", "/api/v1/releases?product=bench&version=2.0.0&security_counter=1&hardware=hw",
                   admin, image)
    campaign = call(base, "POST", "/api/v1/campaigns", admin, {"name": "b", "release": release["id"]})
    call(base, "POST", f"/api/v1/campaigns/{campaign['id']}/start", admin, {})
    answer = call(base, "POST", CHECKIN_PATH, token, json.loads(CHECKIN_BODY))
    if not answer.get("update") or answer.get("kind") != "full" or answer.get("artifact_size") != size:
        raise BenchFailed(f"check-in did not offer the {size}-byte full image: {answer}")
    if answer["artifact_sha256"] != hashlib.sha256(image).hexdigest():
        raise BenchFailed("the offered artifact is not release 2.0.0")
    if request(base, "GET", answer["artifact"], token) != image:
        raise BenchFailed(f"GET {answer['artifact']} did not return release 2.0.0")
    (www / "image.bin").write_bytes(image)
    return answer["artifact"]


# --- wrk.

def lua_string(text):
    assert "]==]" not in text
    return f"[==[{text}]==]"


# done() prints exact figures (latency in microseconds) as one line, rather than
# re-parsing wrk's rounded text.
WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%.0f,"bytes":%.0f,"duration_us":%.0f,"p50_us":%.0f,"p99_us":%.0f,' ..
    '"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\\n',
    summary.requests, summary.bytes, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def write_script(path, method, token, body=None):
    lines = [f'wrk.method = "{method}"',
             f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}']
    if body is not None:
        lines += ['wrk.headers["Content-Type"] = "application/json"', f"wrk.body = {lua_string(body)}"]
    path.write_text("\n".join(lines) + "\n" + WRK_DONE)
    return path


def run_wrk(url, script, server_pid, args):
    argv = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s",
            "--timeout", "30s", "--latency", "-s", str(script), url]
    cpu_before = cpu_seconds(server_pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 60)
    server_cpu = cpu_seconds(server_pid) - cpu_before
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRK_RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise BenchFailed(f"{' '.join(argv)} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    r = json.loads(line.split(" ", 1)[1])
    if r["status"] or r["requests"] == 0:
        raise BenchFailed(f"{url}: {r['status']:.0f} non-2xx answers of {r['requests']:.0f}:\n{out.stdout}")
    seconds = r["duration_us"] / 1e6
    return {"requests_per_s": r["requests"] / seconds, "mb_per_s": r["bytes"] / seconds / 1e6,
            "p50_ms": r["p50_us"] / 1e3, "p99_ms": r["p99_us"] / 1e3,
            "server_cpu_pct": 100 * server_cpu / seconds, "requests": r["requests"],
            "socket_errors": {k: r[k] for k in ("connect", "read", "write", "timeout")}}


# --- Report.

COLUMNS = [("requests/s", "requests_per_s", "{:,.0f}"), ("MB/s", "mb_per_s", "{:,.1f}"),
           ("p50 ms", "p50_ms", "{:.2f}"), ("p99 ms", "p99_ms", "{:.2f}"),
           ("server CPU", "server_cpu_pct", "{:.0f}%")]


def format_case(title, rows, target_key, target):
    """rows: {"updraftd": figures, "nginx": figures}; updraftd's cells carry a ratio to nginx."""
    ref = rows["nginx"]
    table = [["tool"] + [h for h, _, _ in COLUMNS]]
    for tool, r in rows.items():
        cells = [tool]
        for _, key, fmt in COLUMNS:
            cell = fmt.format(r[key])
            if tool != "nginx" and key != "server_cpu_pct" and ref[key]:
                cell += f" {r[key] / ref[key]:.2f}x"
            cells.append(cell)
        table.append(cells)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [title]
    for row in table:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    ratio = rows["updraftd"][target_key] / ref[target_key]
    label = next(h for h, key, _ in COLUMNS if key == target_key)
    lines.append(f"target: updraftd {label} >= {target:.2f}x nginx: "
                 f"{'met' if ratio >= target else 'NOT met'} ({ratio:.2f}x nginx)")
    for tool, r in rows.items():
        errors = {k: v for k, v in r["socket_errors"].items() if v}
        if errors:
            lines.append(f"warning: {tool} socket errors {errors}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updraftd", type=Path, default=REPO / "build/release/server/updraftd")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--threads", type=int, default=1,
                    help="updraftd --threads and nginx worker_processes (default: %(default)s)")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk -t (default: %(default)s)")
    ap.add_argument("--connections", type=int, default=64, help="wrk -c (default: %(default)s)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default: %(default)s)")
    ap.add_argument("--size-mb", type=int, default=32, help="release image size (default: %(default)s)")
    ap.add_argument("--cases", default="checkin,download", help="(default: %(default)s)")
    ap.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite",
                    help="updraftd's store (default: %(default)s)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    if not cases or set(cases) - set(TARGETS):
        ap.error(f"--cases: a comma-separated subset of {','.join(TARGETS)}")

    missing = [p for p in ["wrk", args.nginx, str(args.updraftd)] if not shutil.which(p)]
    if missing:
        sys.exit(f"server_bench: missing {', '.join(missing)} (apt-get install -y wrk nginx, "
                 "or scripts/setup.sh; then cmake --preset release && cmake --build --preset release)")
    # SIGTERM unwinds like Ctrl-C, so the servers are stopped and the temp dir removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    results = {}
    try:
        with ExitStack() as stack:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="server_bench.")))
            www = scratch / "nginx" / "www"
            www.mkdir(parents=True)
            store = start_postgres(scratch, stack) if args.store == "postgresql" else None
            updraftd, base, admin = start_updraftd(args.updraftd, scratch, args.threads, store)
            stack.callback(stop_process, updraftd)
            nginx, nginx_base = start_nginx(args.nginx, scratch, args.threads)
            stack.callback(stop_process, nginx)

            token, answer = setup_checkin(base, admin, www)
            post = write_script(scratch / "checkin.lua", "POST", token, CHECKIN_BODY)
            get = write_script(scratch / "get.lua", "GET", token)
            if "checkin" in cases:
                print(f"[check-in] updraftd, then nginx: {args.duration} s each", file=sys.stderr, flush=True)
                results["checkin"] = {"updraftd": run_wrk(base + CHECKIN_PATH, post, updraftd.pid, args),
                                      "nginx": run_wrk(nginx_base + "/checkin.json", get, nginx.pid, args)}
            if "download" in cases:
                print(f"[download] uploading a {args.size_mb} MiB release", file=sys.stderr, flush=True)
                artifact = setup_download(base, admin, token, www, args.size_mb << 20)
                print(f"[download] updraftd, then nginx: {args.duration} s each", file=sys.stderr, flush=True)
                results["download"] = {"updraftd": run_wrk(base + artifact, get, updraftd.pid, args),
                                       "nginx": run_wrk(nginx_base + "/image.bin", get, nginx.pid, args)}
    except BenchFailed as e:
        print(f"server_bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("server_bench: interrupted; servers stopped", file=sys.stderr)
        return 130

    print(f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s on loopback; "
          f"updraftd --threads {args.threads} on {args.store}, nginx worker_processes {args.threads}; "
          f"{os.cpu_count()} CPUs\n")
    titles = {
        "checkin": f"check-in ({len(answer)}-byte answer): updraftd POST {CHECKIN_PATH}, "
                   "nginx GET of a file with the same bytes",
        "download": f"download ({args.size_mb} MiB full image): updraftd GET .../artifact (sendfile), "
                    "nginx GET of the same file (sendfile on)"}
    for case in cases:
        print(format_case(titles[case], results[case], *TARGETS[case]) + "\n")
    if args.json:
        args.json.write_text(json.dumps({
            "wrk": {"threads": args.wrk_threads, "connections": args.connections, "duration_s": args.duration},
            "server_threads": args.threads, "store": args.store, "image_bytes": args.size_mb << 20,
            "targets": {c: {"figure": k, "ratio": t} for c, (k, t) in TARGETS.items()},
            "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
